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
}

// Instance is the VM component.
type Instance struct {
	pulumi.ResourceState

	ID        pulumi.IDOutput
	PrivateIP pulumi.StringOutput
	RoleName  pulumi.StringOutput
}

// ssmManagedPolicy is AWS's policy for Session Manager and the SSM agent.
const ssmManagedPolicy = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

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

	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeByEC2),
		Description:      pulumi.String("Instance role of " + name + ": Session Manager and its own SSM parameters"),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, name+"-ssm-core", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String(ssmManagedPolicy),
	}, parent); err != nil {
		return nil, err
	}
	if len(args.ReadableParameters) > 0 {
		if _, err := iam.NewRolePolicy(ctx, name+"-read-parameters", &iam.RolePolicyArgs{
			Role:   role.Name,
			Policy: readParametersPolicy(args.ReadableParameters),
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

// readParametersPolicy allows ssm:GetParameter on exactly these ARNs. The
// SecureStrings use the AWS-managed aws/ssm key, whose key policy lets SSM
// decrypt for the account's principals, so no kms statement is needed.
func readParametersPolicy(arns []pulumi.StringInput) pulumi.StringOutput {
	all := pulumi.StringArray(arns)
	return all.ToStringArrayOutput().ApplyT(func(resources []string) (string, error) {
		doc := map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{{
				"Effect":   "Allow",
				"Action":   []string{"ssm:GetParameter"},
				"Resource": resources,
			}},
		}
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
