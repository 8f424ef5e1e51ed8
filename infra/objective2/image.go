package objective2

import (
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/firewall"
	"github.com/tet-bookstore/bookstore/infra/instance"
	"github.com/tet-bookstore/bookstore/infra/privatenet"
	"github.com/tet-bookstore/bookstore/infra/userdata"
)

// al2023Parameter is AWS's public pointer to the current Amazon Linux 2023
// image: its repositories carry amazon-efs-utils and the CloudWatch agent.
const al2023Parameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

// builderPollInterval is how often `pulumi up` looks at the builder's state.
var builderPollInterval = 15 * time.Second // a variable for tests

type image struct {
	id      pulumi.StringOutput
	release string // the release's one-line description, for tags
}

// newImage bakes the release into an AMI: a builder instance installs it
// and powers itself off once /readyz answered; the program waits for the
// stopped state and only then snapshots it (ec2.AmiFromInstance). A new
// release changes the builder's user data, which replaces the builder and
// so the AMI, and the launch template's new version starts the group's
// instance refresh.
func newImage(ctx *pulumi.Context, cfg *config.Config, s *settings, net *privatenet.Network, group *firewall.Group) (*image, error) {
	release := userdata.Release{
		Delivery:     userdata.Delivery(cfg.App.Delivery),
		BinaryURL:    cfg.App.BinaryURL,
		BinarySHA256: cfg.App.BinarySHA256,
		Image:        cfg.App.Image,
	}
	scripts, err := userdata.RenderImageBuilder(userdata.ImageBuilder{
		Release: release, UID: appUID, GID: appGID, UploadsDir: uploadsDir, StopTimeoutSeconds: s.StopTimeoutSeconds(),
	})
	if err != nil {
		return nil, err
	}
	base, err := baseImage(ctx, cfg.AMI)
	if err != nil {
		return nil, err
	}
	profile, err := builderProfile(ctx)
	if err != nil {
		return nil, err
	}
	builder, err := ec2.NewInstance(ctx, "image-builder", &ec2.InstanceArgs{
		Ami:                 pulumi.String(base),
		InstanceType:        pulumi.String("t3.small"),
		SubnetId:            net.PrivateSubnetIDs[0],
		VpcSecurityGroupIds: pulumi.StringArray{group.ID.ToStringOutput()},
		IamInstanceProfile:  profile.Name,
		UserData:            pulumi.String(scripts.UserData()),
		// A new release is a new builder, hence a new image.
		UserDataReplaceOnChange: pulumi.Bool(true),
		// Its own `systemctl poweroff` is the signal that the image is done.
		InstanceInitiatedShutdownBehavior: pulumi.String("stop"),
		MetadataOptions: ec2.InstanceMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"), HttpTokens: pulumi.String("required"), HttpPutResponseHopLimit: pulumi.Int(1),
		},
		RootBlockDevice: ec2.InstanceRootBlockDeviceArgs{
			VolumeType: pulumi.String("gp3"), VolumeSize: pulumi.Int(8), Encrypted: pulumi.Bool(true), DeleteOnTermination: pulumi.Bool(true),
		},
		Tags: pulumi.StringMap{"Name": pulumi.String("bookstore-image-builder"), "project": pulumi.String("bookstore")},
	}, baseImageChanges(cfg.AMI))
	if err != nil {
		return nil, err
	}
	stopped := waitUntilStopped(ctx, builder.ID(), s.ImageBuildTimeout)
	line, _ := release.Render()
	ami, err := ec2.NewAmiFromInstance(ctx, "app", &ec2.AmiFromInstanceArgs{
		SourceInstanceId: stopped,
		Description:      pulumi.String("Bookstore " + releaseSummary(line)),
		Tags:             pulumi.StringMap{"Name": pulumi.String("bookstore-app"), "project": pulumi.String("bookstore")},
	})
	if err != nil {
		return nil, err
	}
	return &image{id: ami.ID().ToStringOutput(), release: releaseSummary(line)}, nil
}

// baseImage is the pinned AMI (bookstore:ami) or the current Amazon Linux 2023.
func baseImage(ctx *pulumi.Context, pinned string) (string, error) {
	if pinned != "" {
		return pinned, nil
	}
	p, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: al2023Parameter})
	if err != nil {
		return "", fmt.Errorf("looking up the Amazon Linux 2023 AMI: %w", err)
	}
	return p.Value, nil
}

// baseImageChanges: a pinned base image (bookstore:ami) is a decision, and
// changing it rebuilds the image; the looked-up latest Amazon Linux is not,
// and must not rebuild the image on every `pulumi up` that finds a newer one.
func baseImageChanges(pinned string) pulumi.ResourceOption {
	if pinned != "" {
		return pulumi.IgnoreChanges(nil)
	}
	return pulumi.IgnoreChanges([]string{"ami"})
}

// builderProfile lets the builder be inspected over Session Manager, nothing more.
func builderProfile(ctx *pulumi.Context) (*iam.InstanceProfile, error) {
	role, err := iam.NewRole(ctx, "image-builder-role", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeByEC2),
		Description:      pulumi.String("Image builder: Session Manager only"),
	})
	if err != nil {
		return nil, err
	}
	if err := instance.AllowSessionManager(ctx, "image-builder", role.Name); err != nil {
		return nil, err
	}
	return iam.NewInstanceProfile(ctx, "image-builder-profile", &iam.InstanceProfileArgs{Role: role.Name})
}

// waitUntilStopped resolves to the builder's id once it has powered itself
// off, so the AMI depends on a finished builder. It polls through the AWS
// provider (no local AWS tooling): during `pulumi up` the id is known and
// the wait happens; in a preview of a new builder the id is unknown and so
// is the AMI.
func waitUntilStopped(ctx *pulumi.Context, id pulumi.IDOutput, timeout time.Duration) pulumi.StringOutput {
	return id.ApplyT(func(id pulumi.ID) (string, error) {
		deadline := time.Now().Add(timeout)
		for {
			vm, err := ec2.LookupInstance(ctx, &ec2.LookupInstanceArgs{InstanceId: pulumi.StringRef(string(id))})
			if err != nil {
				return "", fmt.Errorf("image builder %s: %w", id, err)
			}
			switch vm.InstanceState {
			case "stopped":
				return string(id), nil
			case "shutting-down", "terminated":
				return "", fmt.Errorf("image builder %s was terminated before it finished", id)
			}
			if time.Now().After(deadline) {
				return "", fmt.Errorf("image builder %s is still %s after %s: its setup failed or is slow; read /var/log/bookstore-boot.log with `aws ssm start-session --target %s`, then `pulumi up` again (raise bookstore:imageBuildTimeoutMinutes if it was only slow)",
					id, vm.InstanceState, timeout, id)
			}
			time.Sleep(builderPollInterval)
		}
	}).(pulumi.StringOutput)
}

// releaseSummary is the release on one line: "binary URL" or "container IMAGE".
func releaseSummary(rendered string) string {
	values := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(rendered), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			values[k] = v
		}
	}
	return strings.TrimSpace(values["delivery"] + " " + values["url"] + values["image"])
}

const assumeByEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
