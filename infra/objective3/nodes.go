package objective3

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/objective3/stack"
	"github.com/tet-bookstore/bookstore/infra/userdata"
)

const (
	nodeCount = 3
	// swarmAddressPool holds the overlays Swarm allocates (ingress
	// included); the stack's backend overlay is 10.209.0.0/24, outside it.
	// Neither overlaps the VPC.
	swarmAddressPool = "10.208.0.0/16"
	rootVolumeGiB    = 30 // images of every release the node ran
	// imdsHopLimit 2: the instance metadata answers one hop further, from
	// inside containers on Docker's bridge networks (see README).
	imdsHopLimit = 2
)

// nodeIP is node i's fixed private address in its zone's private subnet:
// a replaced node keeps it, so the others and the join helper find it.
// DSNOptions end every service's DSN: TLS verified against Amazon RDS's CA
// bundle, which the deploy helper fetches into the rds_ca Docker secret (the
// image's trust store does not hold it).
const DSNOptions = "tls=true&ca=/run/secrets/rds_ca"

func nodeIP(i int) string { return fmt.Sprintf("10.30.%d.10", 11+i) }

type node struct {
	name, ip string
	manager  bool
	vm       *ec2.Instance
}

type nodesArgs struct {
	ami      string
	subnets  []pulumi.IDOutput
	group    pulumi.IDOutput
	params   *parameters
	registry *imageRegistry
	db       *database
	// after are resources the nodes need at first boot (mount targets, parameters).
	after []pulumi.Resource
}

// newNodes declares the managers' and workers' roles and the three VMs,
// one per zone: node 0 is a manager and initializes the swarm; nodes 1 and
// 2 are workers, or managers with bookstore:swarmManagers 3.
func newNodes(ctx *pulumi.Context, cfg *Config, a nodesArgs) ([]*node, error) {
	managerProfile, err := newRole(ctx, "swarm-manager", managerPolicy(a.params, a.registry, a.db))
	if err != nil {
		return nil, err
	}
	var workerProfile pulumi.StringOutput
	if cfg.Managers < nodeCount {
		if workerProfile, err = newRole(ctx, "swarm-worker", readPolicy([]*parameter{a.params.workerToken})); err != nil {
			return nil, err
		}
	}
	managers := make([]string, cfg.Managers)
	for i := range managers {
		managers[i] = nodeIP(i)
	}
	var nodes []*node
	for i := 0; i < nodeCount; i++ {
		n := &node{name: fmt.Sprintf("swarm-node-%d", i), ip: nodeIP(i), manager: i < cfg.Managers}
		scripts, err := userdata.RenderSwarmNode(nodeScript(cfg, a.params, i, managers))
		if err != nil {
			return nil, err
		}
		profile := workerProfile
		if n.manager {
			profile = managerProfile
		}
		role := "worker"
		if n.manager {
			role = "manager"
		}
		n.vm, err = ec2.NewInstance(ctx, n.name, &ec2.InstanceArgs{
			Ami:                 pulumi.String(a.ami),
			InstanceType:        pulumi.String(cfg.InstanceType),
			SubnetId:            a.subnets[i],
			PrivateIp:           pulumi.String(n.ip),
			VpcSecurityGroupIds: pulumi.StringArray{a.group.ToStringOutput()},
			IamInstanceProfile:  profile,
			UserData:            pulumi.String(scripts.UserData()),
			MetadataOptions: ec2.InstanceMetadataOptionsArgs{
				HttpEndpoint:            pulumi.String("enabled"),
				HttpTokens:              pulumi.String("required"), // IMDSv2 only
				HttpPutResponseHopLimit: pulumi.Int(imdsHopLimit),
			},
			RootBlockDevice: ec2.InstanceRootBlockDeviceArgs{
				VolumeType:          pulumi.String("gp3"),
				VolumeSize:          pulumi.Int(rootVolumeGiB),
				Encrypted:           pulumi.Bool(true),
				DeleteOnTermination: pulumi.Bool(true),
			},
			Tags: pulumi.StringMap{"Name": pulumi.String(n.name), "swarm-role": pulumi.String(role), "project": pulumi.String("bookstore")},
		},
			pulumi.DependsOn(a.after),
			// A newer upstream image must never replace a running node.
			pulumi.IgnoreChanges([]string{"ami"}),
			// The replacement takes over the fixed address, so the old VM goes first.
			pulumi.DeleteBeforeReplace(true))
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// nodeScript describes node i for its boot script.
func nodeScript(cfg *Config, p *parameters, i int, managers []string) userdata.SwarmNode {
	n := userdata.SwarmNode{
		Index: i, PrivateIP: nodeIP(i), Manager: i < cfg.Managers, Init: i == 0,
		Managers: managers, Placeholder: placeholder, AddressPool: swarmAddressPool,
		TokenParameter: p.managerToken.name,
	}
	if !n.Manager {
		n.TokenParameter = p.workerToken.name
		return n
	}
	if n.Init {
		n.Publish = []userdata.JoinToken{{Role: "manager", Parameter: p.managerToken.name}}
		if p.workerToken != nil {
			n.Publish = append(n.Publish, userdata.JoinToken{Role: "worker", Parameter: p.workerToken.name})
		}
	}
	d := &userdata.SwarmDeploy{
		StackName:              "bookstore",
		StackParameter:         p.stackFile.name,
		GatewayConfParameter:   p.gatewayConf.name,
		SettingsParameter:      p.settings.name,
		SigningKeyParameter:    p.signingKey.name,
		AdminPasswordParameter: p.adminPassword.name,
		DSNOptions:             DSNOptions,
	}
	for j, svc := range stack.AppServices {
		d.Databases = append(d.Databases, userdata.ServiceDatabase{Name: svc, PasswordParameter: p.dbPasswords[j].name})
		d.ServiceKeys = append(d.ServiceKeys, userdata.ServiceKey{Name: svc, Parameter: p.serviceKeys[j].name})
	}
	n.Deploy = d
	return n
}

// ssmManagedPolicy is AWS's policy for Session Manager and the SSM agent.
const ssmManagedPolicy = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

const assumeByEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// newRole is a nodes' role with Session Manager and the given inline
// policy; it returns the instance profile's name.
func newRole(ctx *pulumi.Context, name string, policy pulumi.StringOutput) (pulumi.StringOutput, error) {
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeByEC2),
		Description:      pulumi.String("Swarm " + name + " nodes: Session Manager and the stack's own parameters"),
	})
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, name+"-ssm-core", &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: pulumi.String(ssmManagedPolicy),
	}); err != nil {
		return pulumi.StringOutput{}, err
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-policy", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}); err != nil {
		return pulumi.StringOutput{}, err
	}
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{Role: role.Name})
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return profile.Name, nil
}

// statement is one IAM statement whose resources resolve later.
type statement struct {
	actions   []string
	resources []pulumi.StringInput
}

func arns(params []*parameter) []pulumi.StringInput {
	out := make([]pulumi.StringInput, len(params))
	for i, p := range params {
		out[i] = p.arn
	}
	return out
}

func readPolicy(params []*parameter) pulumi.StringOutput {
	return policyDocument([]statement{{actions: []string{"ssm:GetParameter"}, resources: arns(params)}})
}

// managerPolicy: read the stack's parameters, write exactly those the
// leader fills in, read the database's master secret, pull from the
// stack's repository. Nothing else, and no wildcard but ECR's token call.
func managerPolicy(p *parameters, r *imageRegistry, db *database) pulumi.StringOutput {
	statements := []statement{
		{actions: []string{"ssm:GetParameter"}, resources: arns(p.managerReads())},
		{actions: []string{"ssm:PutParameter"}, resources: arns(p.written())},
		{actions: []string{"secretsmanager:GetSecretValue"}, resources: []pulumi.StringInput{db.masterSecretArn}},
	}
	if r.created {
		statements = append(statements,
			statement{actions: []string{"ecr:GetAuthorizationToken"}, resources: []pulumi.StringInput{pulumi.String("*")}}, // takes no resource
			statement{actions: []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}, resources: []pulumi.StringInput{r.repositoryARN}},
		)
	}
	return policyDocument(statements)
}

func policyDocument(statements []statement) pulumi.StringOutput {
	var all []any
	for _, s := range statements {
		all = append(all, pulumi.StringArray(s.resources).ToStringArrayOutput())
	}
	return pulumi.All(all...).ApplyT(func(resolved []any) (string, error) {
		var doc []map[string]any
		for i, s := range statements {
			doc = append(doc, map[string]any{"Effect": "Allow", "Action": s.actions, "Resource": resolved[i]})
		}
		b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": doc})
		return string(b), err
	}).(pulumi.StringOutput)
}
