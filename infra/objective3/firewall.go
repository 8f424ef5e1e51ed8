package objective3

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/firewall"
)

// swarmPorts are what the nodes exchange, and only among themselves:
// cluster management, gossip, the overlays' VXLAN and the encrypted
// overlay's IPsec ESP (IP protocol 50, no ports).
var swarmPorts = []struct {
	name, protocol string
	port           int
	description    string
}{
	{"swarm-manage", "tcp", 2377, "Swarm cluster management (raft, joins)"},
	{"swarm-gossip-tcp", "tcp", 7946, "Swarm node gossip"},
	{"swarm-gossip-udp", "udp", 7946, "Swarm node gossip"},
	{"swarm-vxlan", "udp", 4789, "overlay network traffic (VXLAN)"},
	{"swarm-esp", "50", 0, "IPsec ESP of the encrypted overlay"},
}

type securityGroups struct {
	nodes, entry pulumi.IDOutput
}

// newSecurityGroups: the Swarm ports are open only within the nodes' own
// group; the gateway's port 80 only from the load balancer's group, which
// admits the objective 1 proxy (bookstore:proxyCidr) only.
func newSecurityGroups(ctx *pulumi.Context, cfg *Config, vpc pulumi.IDOutput) (*securityGroups, error) {
	from, why := cfg.ProxyCidr, "the gateway, from the objective 1 proxy over the VPC peering"
	entry, err := firewall.New(ctx, "swarm-entry", &firewall.Args{
		VpcID:       vpc,
		Description: "Swarm entry load balancer: HTTP to the gateway",
		Ingress:     []firewall.Rule{{Name: "http", Port: 80, FromCidr: from, Description: why}},
	})
	if err != nil {
		return nil, err
	}
	nodes, err := ec2.NewSecurityGroup(ctx, "swarm-nodes", &ec2.SecurityGroupArgs{
		VpcId:       vpc,
		Description: pulumi.String("Swarm nodes: Swarm ports among themselves, the gateway from the load balancer"),
		Tags:        pulumi.StringMap{"Name": pulumi.String("swarm-nodes"), "project": pulumi.String("bookstore")},
	})
	if err != nil {
		return nil, err
	}
	rule := func(name string, args *ec2.SecurityGroupRuleArgs) error {
		args.SecurityGroupId = nodes.ID()
		_, err := ec2.NewSecurityGroupRule(ctx, "swarm-nodes-"+name, args)
		return err
	}
	for _, p := range swarmPorts {
		if err := rule(p.name, &ec2.SecurityGroupRuleArgs{
			Type: pulumi.String("ingress"), Protocol: pulumi.String(p.protocol),
			FromPort: pulumi.Int(p.port), ToPort: pulumi.Int(p.port),
			Self: pulumi.Bool(true), Description: pulumi.String(p.description + ", between the nodes only"),
		}); err != nil {
			return nil, err
		}
	}
	if err := rule("gateway", &ec2.SecurityGroupRuleArgs{
		Type: pulumi.String("ingress"), Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(80), ToPort: pulumi.Int(80),
		SourceSecurityGroupId: entry.ID, Description: pulumi.String("the routing mesh's port 80, from the load balancer"),
	}); err != nil {
		return nil, err
	}
	if cfg.SSHCidr != "" {
		if err := rule("ssh", &ec2.SecurityGroupRuleArgs{
			Type: pulumi.String("ingress"), Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(22), ToPort: pulumi.Int(22),
			CidrBlocks: pulumi.StringArray{pulumi.String(cfg.SSHCidr)}, Description: pulumi.String("SSH from bookstore:sshCidr"),
		}); err != nil {
			return nil, err
		}
	}
	if err := rule("egress", &ec2.SecurityGroupRuleArgs{
		Type: pulumi.String("egress"), Protocol: pulumi.String("-1"), FromPort: pulumi.Int(0), ToPort: pulumi.Int(0),
		CidrBlocks:  pulumi.StringArray{pulumi.String("0.0.0.0/0")},
		Description: pulumi.String("packages, images, SSM, Secrets Manager (through the NAT gateway)"),
	}); err != nil {
		return nil, err
	}
	return &securityGroups{nodes: nodes.ID(), entry: entry.ID}, nil
}
