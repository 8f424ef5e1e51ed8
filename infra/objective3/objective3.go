// Package objective3 is the bookstore's microservices on a three-node
// Docker Swarm: a private VPC across three zones, the nodes (one manager and
// two workers, or three managers), an NLB in front of the routing mesh, an
// ECR repository, EFS for the stack's NFS volume, an Aurora Serverless v2
// cluster (or objective 2's), and the SSM parameters through which the
// nodes find the join tokens, the stack and its secrets. The stack itself
// is infra/objective3/stack; the nodes' scripts are in infra/userdata.
package objective3

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/instance"
	"github.com/tet-bookstore/bookstore/infra/privatenet"
	"github.com/tet-bookstore/bookstore/infra/stackkey"
)

// The VPC: a public (load balancer, NAT) and a private (nodes, EFS,
// Aurora) subnet in each of three zones; nodeIP depends on the private ones.
var (
	vpcCidr        = "10.30.0.0/16"
	publicSubnets  = []string{"10.30.1.0/24", "10.30.2.0/24", "10.30.3.0/24"}
	privateSubnets = []string{"10.30.11.0/24", "10.30.12.0/24", "10.30.13.0/24"}
)

// Run declares objective 3's resources and exports its outputs.
func Run(ctx *pulumi.Context, base *config.Config) error {
	cfg, err := loadConfig(ctx, base)
	if err != nil {
		return err
	}
	net, err := privatenet.New(ctx, "swarm", &privatenet.Args{
		CidrBlock: vpcCidr, PublicSubnetCidrs: publicSubnets, PrivateSubnetCidrs: privateSubnets,
	})
	if err != nil {
		return err
	}
	ami, err := instance.UbuntuAMI(ctx, cfg.AMI)
	if err != nil {
		return err
	}
	groups, err := newSecurityGroups(ctx, cfg, net.VpcID)
	if err != nil {
		return err
	}
	files, err := newSharedFiles(ctx, net.VpcID, net.PrivateSubnetIDs, groups.nodes)
	if err != nil {
		return err
	}
	key, err := newSecretsKey(ctx, cfg)
	if err != nil {
		return err
	}
	db, err := newDatabase(ctx, cfg, net, groups.nodes, key)
	if err != nil {
		return err
	}
	registry, err := newImageRegistry(ctx, cfg)
	if err != nil {
		return err
	}
	params, err := newParameters(ctx, cfg, settingsInputs{
		registry: registry.prefix, efsDNS: files.dnsName, dbHost: db.endpoint, dbSecret: db.masterSecretArn, key: key.Arn, keyAlias: key.Alias, keyRes: key,
	})
	if err != nil {
		return err
	}
	after := append([]pulumi.Resource{params.stackFile.res, params.gatewayConf.res, params.settings.res}, files.mountTargets...)
	nodes, err := newNodes(ctx, cfg, nodesArgs{
		ami: ami, subnets: net.PrivateSubnetIDs, group: groups.nodes, params: params, registry: registry, db: db, key: key.Arn, keyAlias: key.Alias, after: after,
	})
	if err != nil {
		return err
	}
	entry, err := newEntryPoint(ctx, net.VpcID, net.PrivateSubnets(), groups.entry, nodes)
	if err != nil {
		return err
	}
	exportOutputs(ctx, cfg, outputs{net: net, entry: entry, nodes: nodes, registry: registry, files: files, db: db, params: params})
	return nil
}

type outputs struct {
	net      *privatenet.Network
	entry    pulumi.StringOutput
	nodes    []*node
	registry *imageRegistry
	files    *sharedFiles
	db       *database
	params   *parameters
}

// exportOutputs: proxyUpstream is what the objective 1 proxy's
// StackReference reads (HOST:PORT of plain HTTP); the rest is for operators.
func exportOutputs(ctx *pulumi.Context, cfg *Config, o outputs) {
	ctx.Export("proxyUpstream", pulumi.Sprintf("%s:80", o.entry))
	// What objective 1 needs to peer with this VPC and reach the internal NLB.
	ctx.Export("vpcId", o.net.VpcID)
	ctx.Export("vpcCidr", pulumi.String(o.net.CidrBlock))
	ctx.Export("privateRouteTableId", o.net.PrivateRouteTableID)
	ctx.Export("url", pulumi.Sprintf("http://%s/", o.entry))
	ids, ips, sessions := pulumi.StringArray{}, pulumi.StringArray{}, pulumi.StringMap{}
	for _, n := range o.nodes {
		ids = append(ids, n.vm.ID().ToStringOutput())
		ips = append(ips, pulumi.String(n.ip))
		sessions[n.name] = pulumi.Sprintf("aws ssm start-session --target %s", n.vm.ID())
	}
	ctx.Export("nodeIds", ids)
	ctx.Export("nodePrivateIps", ips)
	ctx.Export("nodeSessions", sessions)
	ctx.Export("managerSession", sessions[o.nodes[0].name])
	ctx.Export("swarmManagers", pulumi.Int(cfg.Managers))
	ctx.Export("registry", o.registry.prefix)
	ctx.Export("image", pulumi.Sprintf("%s/bookstore:%s", o.registry.prefix, cfg.ImageTag))
	if o.registry.created {
		ctx.Export("ecrRepositoryUrl", o.registry.repositoryURL)
	}
	ctx.Export("efsDnsName", o.files.dnsName)
	ctx.Export("databaseEndpoint", o.db.endpoint)
	ctx.Export("databaseMasterSecretArn", o.db.masterSecretArn)
	ctx.Export("stackParameter", pulumi.String(o.params.stackFile.name))
	ctx.Export("settingsParameter", pulumi.String(o.params.settings.name))
	ctx.Export("adminPasswordParameter", pulumi.String(o.params.adminPassword.name))
}

// newSecretsKey is the key of the stack's SecureStrings and its own
// cluster's master secret: the managers read and write them (the leader
// generates most), the workers only decrypt their join token.
func newSecretsKey(ctx *pulumi.Context, cfg *Config) (*stackkey.Key, error) {
	args := &stackkey.Args{
		Description: "Secrets of the bookstore stack " + cfg.Stack + " (join tokens, keys, passwords)",
		Writers:     []string{roleName(cfg, "swarm-manager")},
	}
	if cfg.Managers < nodeCount {
		args.Readers = []string{roleName(cfg, "swarm-worker")}
	}
	return stackkey.New(ctx, "secrets", args)
}

// roleName: the nodes' roles have fixed names, which the key policy names.
func roleName(cfg *Config, role string) string { return stackkey.RoleName(cfg.Stack, role) }
