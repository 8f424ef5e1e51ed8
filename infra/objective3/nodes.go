package objective3

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/instance"
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
	// imdsHopLimit 1: the instance metadata answers the host only, not the
	// containers behind Docker's bridge (one hop further), so no container
	// (the internet-facing gateway included) can take the node's role. What
	// needs the role (join, deploy) runs on the host under systemd.
	imdsHopLimit = 1
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
	key      pulumi.StringOutput // the stack key's ARN
	keyAlias string
	// after are resources the nodes need at first boot (mount targets, parameters).
	after []pulumi.Resource
}

// newNodes declares the managers' and workers' roles and the three VMs,
// one per zone: node 0 is a manager and initializes the swarm; nodes 1 and
// 2 are workers, or managers with bookstore:swarmManagers 3.
func newNodes(ctx *pulumi.Context, cfg *Config, a nodesArgs) ([]*node, error) {
	managerProfile, err := newRole(ctx, cfg, "swarm-manager", managerPolicy(a.params, a.registry, a.db, a.key))
	if err != nil {
		return nil, err
	}
	var workerProfile pulumi.StringOutput
	if cfg.Managers < nodeCount {
		if workerProfile, err = newRole(ctx, cfg, "swarm-worker", readPolicy([]*parameter{a.params.workerToken}, a.key)); err != nil {
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
		script := nodeScript(cfg, a.params, i, managers)
		if script.Manager {
			script.KeyAlias = a.keyAlias
		}
		scripts, err := userdata.RenderSwarmNode(script)
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

const assumeByEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// newRole is a nodes' role with Session Manager and the given inline
// policy; it returns the instance profile's name.
func newRole(ctx *pulumi.Context, cfg *Config, name string, policy pulumi.StringOutput) (pulumi.StringOutput, error) {
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		Name:             pulumi.String(roleName(cfg, name)), // the stack key's policy names it
		AssumeRolePolicy: pulumi.String(assumeByEC2),
		Description:      pulumi.String("Swarm " + name + " nodes: Session Manager and the stack's own parameters"),
	})
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if err := instance.AllowSessionManager(ctx, name, role.Name); err != nil {
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

func readPolicy(params []*parameter, key pulumi.StringOutput) pulumi.StringOutput {
	return policyDocument([]statement{
		{actions: []string{"ssm:GetParameter"}, resources: arns(params)},
		{actions: []string{"kms:Decrypt"}, resources: []pulumi.StringInput{key}},
	})
}

// managerPolicy: read the stack's parameters, write exactly those the
// leader fills in, read the database's master secret, pull from the
// stack's repository. Nothing else, and no wildcard but ECR's token call.
func managerPolicy(p *parameters, r *imageRegistry, db *database, key pulumi.StringOutput) pulumi.StringOutput {
	statements := []statement{
		{actions: []string{"ssm:GetParameter"}, resources: arns(p.managerReads())},
		{actions: []string{"ssm:PutParameter"}, resources: arns(p.written())},
		{actions: []string{"secretsmanager:GetSecretValue"}, resources: []pulumi.StringInput{db.masterSecretArn}},
		// The stack key's policy names the manager; IAM must agree.
		{actions: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, resources: []pulumi.StringInput{key}},
	}
	if db.secretKey != nil {
		// Objective 2's cluster: its master secret is under that stack's key.
		statements = append(statements, statement{actions: []string{"kms:Decrypt"}, resources: []pulumi.StringInput{db.secretKey}})
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
