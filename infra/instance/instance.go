// Package instance declares EC2 VMs with the project's hardened defaults:
// IMDSv2 only, an encrypted gp3 root volume, Session Manager instead of SSH,
// and an instance role that may read exactly the SSM parameters it is given.
package instance

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/stackkey"
)

// Args configures a VM; zero values take the defaults.
type Args struct {
	AMI              string
	InstanceType     string // default t3.micro
	SubnetID         pulumi.IDInput
	SecurityGroupIDs pulumi.StringArrayInput
	UserData         pulumi.StringInput
	RootVolumeGiB    int // default 16
	// ReplaceOnUserDataChange replaces the VM when its boot script changes.
	// Only for stateless VMs: cloud-init runs user data on first boot only,
	// so an in-place change would never run, but a VM holding data (the
	// app's MariaDB) must not be destroyed by a script edit.
	ReplaceOnUserDataChange bool
	// ReadableParameters are the ARNs of the SSM parameters the VM reads at
	// run time; the role may read these and no other.
	ReadableParameters []pulumi.StringInput
	// RoleName fixes the role's IAM name (stackkey.RoleName), so a key
	// policy can name the role before it exists; default auto-named.
	RoleName string
	// DecryptKey is the ARN of the KMS key its SecureStrings are under; the
	// role may decrypt with it (the key policy must name RoleName too).
	DecryptKey pulumi.StringInput
}

// Instance is the VM component.
type Instance struct {
	pulumi.ResourceState

	ID        pulumi.IDOutput
	PrivateIP pulumi.StringOutput
	RoleName  pulumi.StringOutput
}

// SessionManagerPolicy is what the SSM agent needs for Session Manager and
// nothing more: AWS's AmazonSSMManagedInstanceCore would also allow
// ssm:GetParameter(s) on every parameter of the account. Sessions are not
// logged to S3 or CloudWatch, so no logging actions.
const SessionManagerPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"SessionManager","Effect":"Allow","Action":[` +
	`"ssm:UpdateInstanceInformation",` +
	`"ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel",` +
	`"ec2messages:AcknowledgeMessage","ec2messages:DeleteMessage","ec2messages:FailMessage","ec2messages:GetEndpoint","ec2messages:GetMessages","ec2messages:SendReply"` +
	`],"Resource":"*"}]}`

// AllowSessionManager gives a role SessionManagerPolicy as an inline policy
// named NAME-session-manager.
func AllowSessionManager(ctx *pulumi.Context, name string, role pulumi.StringInput, opts ...pulumi.ResourceOption) error {
	_, err := iam.NewRolePolicy(ctx, name+"-session-manager", &iam.RolePolicyArgs{
		Role:   role,
		Policy: pulumi.String(SessionManagerPolicy),
	}, opts...)
	return err
}

// New declares the role, its instance profile and the VM.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Instance, error) {
	if args.AMI == "" || args.SubnetID == nil || args.UserData == nil {
		return nil, fmt.Errorf("instance %s: AMI, subnet and user data are required", name)
	}
	in := &Instance{}
	if err := ctx.RegisterComponentResource("bookstore:instance:Instance", name, in, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(in)

	roleArgs := &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeByEC2),
		Description:      pulumi.String("Instance role of " + name + ": Session Manager and its own SSM parameters"),
	}
	if args.RoleName != "" {
		roleArgs.Name = pulumi.String(args.RoleName)
	}
	role, err := iam.NewRole(ctx, name+"-role", roleArgs, parent)
	if err != nil {
		return nil, err
	}
	if err := AllowSessionManager(ctx, name, role.Name, parent); err != nil {
		return nil, err
	}
	if len(args.ReadableParameters) > 0 {
		if _, err := iam.NewRolePolicy(ctx, name+"-read-parameters", &iam.RolePolicyArgs{
			Role:   role.Name,
			Policy: readParametersPolicy(args.ReadableParameters, args.DecryptKey),
		}, parent); err != nil {
			return nil, err
		}
	}
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{Role: role.Name}, parent)
	if err != nil {
		return nil, err
	}

	instanceType := args.InstanceType
	if instanceType == "" {
		instanceType = "t3.micro"
	}
	size := args.RootVolumeGiB
	if size == 0 {
		size = 16
	}
	vm, err := ec2.NewInstance(ctx, name, &ec2.InstanceArgs{
		Ami:                     pulumi.String(args.AMI),
		InstanceType:            pulumi.String(instanceType),
		SubnetId:                args.SubnetID,
		VpcSecurityGroupIds:     args.SecurityGroupIDs,
		IamInstanceProfile:      profile.Name,
		UserData:                args.UserData,
		UserDataReplaceOnChange: pulumi.Bool(args.ReplaceOnUserDataChange),
		MetadataOptions: ec2.InstanceMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"), // IMDSv2 only
			HttpPutResponseHopLimit: pulumi.Int(1),
		},
		RootBlockDevice: ec2.InstanceRootBlockDeviceArgs{
			VolumeType:          pulumi.String("gp3"),
			VolumeSize:          pulumi.Int(size),
			Encrypted:           pulumi.Bool(true),
			DeleteOnTermination: pulumi.Bool(true),
		},
		Tags: pulumi.StringMap{"Name": pulumi.String(name), "project": pulumi.String("bookstore")},
	}, parent,
		// A newer upstream image must never replace a running VM.
		pulumi.IgnoreChanges([]string{"ami"}))
	if err != nil {
		return nil, err
	}
	in.ID, in.PrivateIP, in.RoleName = vm.ID(), vm.PrivateIp, role.Name
	return in, ctx.RegisterResourceOutputs(in, pulumi.Map{"id": vm.ID(), "privateIp": vm.PrivateIp})
}

const assumeByEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// readParametersPolicy allows ssm:GetParameter on exactly these ARNs and,
// with a key, kms:Decrypt with that key: the stack key's policy delegates
// use to IAM for the roles it names, so both must agree.
func readParametersPolicy(arns []pulumi.StringInput, key pulumi.StringInput) pulumi.StringOutput {
	if key == nil {
		key = pulumi.String("")
	}
	return pulumi.All(pulumi.StringArray(arns).ToStringArrayOutput(), key).ApplyT(func(v []any) (string, error) {
		statements := []map[string]any{{
			"Effect":   "Allow",
			"Action":   []string{"ssm:GetParameter"},
			"Resource": v[0].([]string),
		}}
		if k := v[1].(string); k != "" {
			statements = append(statements, stackkey.DecryptStatement(k, false))
		}
		doc := map[string]any{"Version": "2012-10-17", "Statement": statements}
		b, err := json.Marshal(doc)
		return string(b), err
	}).(pulumi.StringOutput)
}

// UbuntuAMI is the pinned AMI when set, else the current Ubuntu 24.04 LTS
// amd64 image published by Canonical.
func UbuntuAMI(ctx *pulumi.Context, pinned string) (string, error) {
	if pinned != "" {
		return pinned, nil
	}
	ami, err := ec2.LookupAmi(ctx, &ec2.LookupAmiArgs{
		MostRecent: pulumi.BoolRef(true),
		Owners:     []string{"099720109477"}, // Canonical
		Filters: []ec2.GetAmiFilter{
			{Name: "name", Values: []string{"ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"}},
			{Name: "virtualization-type", Values: []string{"hvm"}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("looking up the Ubuntu 24.04 AMI: %w", err)
	}
	return ami.Id, nil
}

// DebianAMI is the pinned AMI when set, else the current official Debian 12
// amd64 image (the Debian cloud team's account): the OS the first-boot test
// (infra/firstboot) boots the user data on.
func DebianAMI(ctx *pulumi.Context, pinned string) (string, error) {
	if pinned != "" {
		return pinned, nil
	}
	ami, err := ec2.LookupAmi(ctx, &ec2.LookupAmiArgs{
		MostRecent: pulumi.BoolRef(true),
		Owners:     []string{"136693071363"}, // Debian
		Filters: []ec2.GetAmiFilter{
			{Name: "name", Values: []string{"debian-12-amd64-*"}},
			{Name: "architecture", Values: []string{"x86_64"}},
			{Name: "virtualization-type", Values: []string{"hvm"}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("looking up the Debian 12 AMI: %w", err)
	}
	return ami.Id, nil
}
