package objective2

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/firewall"
	"github.com/tet-bookstore/bookstore/infra/instance"
	"github.com/tet-bookstore/bookstore/infra/privatenet"
	"github.com/tet-bookstore/bookstore/infra/stackkey"
	"github.com/tet-bookstore/bookstore/infra/userdata"
)

type appGroupArgs struct {
	net   *privatenet.Network
	group *firewall.Group
	image *image
	alb   *loadBalancer
	data  *data
	logs  *cloudwatch.LogGroup
}

type appGroup struct {
	name pulumi.StringOutput
}

// newAppGroup is the autoscaling group of app instances in the private
// subnets of both zones, registered with the ALB's target group.
func newAppGroup(ctx *pulumi.Context, cfg *config.Config, s *settings, a appGroupArgs) (*appGroup, error) {
	profile, err := appProfile(ctx, a)
	if err != nil {
		return nil, err
	}
	template, err := newLaunchTemplate(ctx, cfg, s, a, profile)
	if err != nil {
		return nil, err
	}
	group, err := autoscaling.NewGroup(ctx, "app", &autoscaling.GroupArgs{
		MinSize:            pulumi.Int(s.MinSize),
		MaxSize:            pulumi.Int(s.MaxSize),
		DesiredCapacity:    pulumi.Int(s.DesiredCapacity),
		VpcZoneIdentifiers: a.net.PrivateSubnets(), // spread over the zones
		TargetGroupArns:    pulumi.StringArray{a.alb.targetGroupArn},
		// An instance whose /readyz fails is replaced, not just one that died.
		HealthCheckType:        pulumi.String("ELB"),
		HealthCheckGracePeriod: pulumi.Int(s.HealthCheckGraceSeconds),
		DefaultInstanceWarmup:  pulumi.Int(s.HealthCheckGraceSeconds),
		LaunchTemplate: autoscaling.GroupLaunchTemplateArgs{
			Id:      template.ID(),
			Version: template.LatestVersion.ApplyT(strconv.Itoa).(pulumi.StringOutput),
		},
		// A new launch template version (new AMI or boot script) replaces
		// the instances a few at a time, keeping MinHealthyPercent serving;
		// new instances start before old ones stop (MaxHealthyPercentage).
		InstanceRefresh: autoscaling.GroupInstanceRefreshArgs{
			Strategy: pulumi.String("Rolling"),
			Preferences: autoscaling.GroupInstanceRefreshPreferencesArgs{
				MinHealthyPercentage: pulumi.Int(s.MinHealthyPercent),
				MaxHealthyPercentage: pulumi.Int(200),
				InstanceWarmup:       pulumi.String(strconv.Itoa(s.HealthCheckGraceSeconds)),
				AutoRollback:         pulumi.Bool(true),
			},
			Triggers: pulumi.StringArray{pulumi.String("tag")},
		},
		WaitForCapacityTimeout: pulumi.String("15m"),
		EnabledMetrics: pulumi.StringArray{
			pulumi.String("GroupInServiceInstances"), pulumi.String("GroupDesiredCapacity"), pulumi.String("GroupTotalInstances"),
		},
		Tags: autoscaling.GroupTagArray{
			autoscaling.GroupTagArgs{Key: pulumi.String("Name"), Value: pulumi.String("bookstore-app"), PropagateAtLaunch: pulumi.Bool(true)},
			autoscaling.GroupTagArgs{Key: pulumi.String("project"), Value: pulumi.String("bookstore"), PropagateAtLaunch: pulumi.Bool(true)},
			autoscaling.GroupTagArgs{Key: pulumi.String("bookstore-release"), Value: pulumi.String(a.image.release), PropagateAtLaunch: pulumi.Bool(true)},
		},
	},
		// The scaling policies own the desired capacity after creation.
		pulumi.IgnoreChanges([]string{"desiredCapacity"}))
	if err != nil {
		return nil, err
	}
	if err := newScalingPolicies(ctx, s, group, a.alb); err != nil {
		return nil, err
	}
	return &appGroup{name: group.Name}, nil
}

func newLaunchTemplate(ctx *pulumi.Context, cfg *config.Config, s *settings, a appGroupArgs, profile *iam.InstanceProfile) (*ec2.LaunchTemplate, error) {
	userData := pulumi.All(a.data.db.MasterSecretArn, a.data.adminSecret.Arn, a.data.db.Endpoint, a.data.files.ID, a.data.files.AccessPointID, a.logs.Name).ApplyT(
		func(v []any) (string, error) {
			scripts, err := userdata.RenderScaledApp(userdata.ScaledApp{
				Port:           cfg.App.Port,
				Env:            cfg.App.Env,
				DBSecretArn:    v[0].(string),
				AdminSecretArn: v[1].(string),
				DBHost:         v[2].(string),
				DBPort:         a.data.db.Port,
				DBName:         a.data.db.DatabaseName,
				FileSystemID:   string(v[3].(pulumi.ID)),
				AccessPointID:  string(v[4].(pulumi.ID)),
				UploadsDir:     uploadsDir,
				LogGroup:       v[5].(string),
				TrustedProxies: trustedProxies(a.net.CidrBlock, s.ProxyCidr),
			})
			if err != nil {
				return "", err
			}
			return base64.StdEncoding.EncodeToString([]byte(scripts.UserData())), nil
		}).(pulumi.StringOutput)
	tags := pulumi.StringMap{"Name": pulumi.String("bookstore-app"), "project": pulumi.String("bookstore")}
	return ec2.NewLaunchTemplate(ctx, "app", &ec2.LaunchTemplateArgs{
		Description:          pulumi.String("Bookstore app instances of objective 2"),
		ImageId:              a.image.id,
		InstanceType:         pulumi.String(cfg.App.InstanceType),
		IamInstanceProfile:   ec2.LaunchTemplateIamInstanceProfileArgs{Arn: profile.Arn},
		VpcSecurityGroupIds:  pulumi.StringArray{a.group.ID.ToStringOutput()},
		UserData:             userData,
		UpdateDefaultVersion: pulumi.Bool(true),
		MetadataOptions: ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"), // IMDSv2 only
			HttpPutResponseHopLimit: pulumi.Int(1),
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"), // Amazon Linux's root device
			Ebs: ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeType: pulumi.String("gp3"), VolumeSize: pulumi.Int(20),
				Encrypted: pulumi.String("true"), DeleteOnTermination: pulumi.String("true"),
			},
		}},
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: tags},
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: tags},
		},
		Tags: tags,
	})
}

// appProfile: Session Manager, reading exactly the two secrets the
// instances need, and writing to the app's log group.
func appProfile(ctx *pulumi.Context, a appGroupArgs) (*iam.InstanceProfile, error) {
	role, err := iam.NewRole(ctx, "app-role", &iam.RoleArgs{
		Name:             pulumi.String(stackkey.RoleName(ctx.Stack(), "app")), // the key policy names it
		AssumeRolePolicy: pulumi.String(assumeByEC2),
		Description:      pulumi.String("Bookstore app instances: Session Manager, their two secrets, their log group"),
	})
	if err != nil {
		return nil, err
	}
	if err := instance.AllowSessionManager(ctx, "app", role.Name); err != nil {
		return nil, err
	}
	policy := pulumi.All(a.data.db.MasterSecretArn, a.data.adminSecret.Arn, a.logs.Arn, a.data.key.Arn).ApplyT(func(v []any) (string, error) {
		doc := map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{
				{
					"Sid": "ReadTheAppSecrets", "Effect": "Allow",
					"Action":   []string{"secretsmanager:GetSecretValue"},
					"Resource": []string{v[0].(string), v[1].(string)},
				},
				{
					"Sid": "ShipLogs", "Effect": "Allow",
					"Action":   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
					"Resource": []string{v[2].(string) + ":*"},
				},
				stackkey.DecryptStatement(v[3].(string), false),
			},
		}
		b, err := json.Marshal(doc)
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, "app-secrets-and-logs", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}); err != nil {
		return nil, err
	}
	return iam.NewInstanceProfile(ctx, "app-profile", &iam.InstanceProfileArgs{Role: role.Name})
}

// newScalingPolicies tracks average CPU and/or requests per instance,
// whichever are configured; each scales out on its own goal and scales in
// only when every policy agrees.
func newScalingPolicies(ctx *pulumi.Context, s *settings, group *autoscaling.Group, alb *loadBalancer) error {
	if s.ScaleCPUPercent > 0 {
		if _, err := autoscaling.NewPolicy(ctx, "app-cpu", &autoscaling.PolicyArgs{
			AutoscalingGroupName: group.Name,
			PolicyType:           pulumi.String("TargetTrackingScaling"),
			TargetTrackingConfiguration: autoscaling.PolicyTargetTrackingConfigurationArgs{
				PredefinedMetricSpecification: autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
					PredefinedMetricType: pulumi.String("ASGAverageCPUUtilization"),
				},
				TargetValue: pulumi.Float64(float64(s.ScaleCPUPercent)),
			},
		}); err != nil {
			return err
		}
	}
	if s.ScaleRequestsPerTarget > 0 {
		if _, err := autoscaling.NewPolicy(ctx, "app-requests", &autoscaling.PolicyArgs{
			AutoscalingGroupName: group.Name,
			PolicyType:           pulumi.String("TargetTrackingScaling"),
			TargetTrackingConfiguration: autoscaling.PolicyTargetTrackingConfigurationArgs{
				PredefinedMetricSpecification: autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
					PredefinedMetricType: pulumi.String("ALBRequestCountPerTarget"),
					ResourceLabel:        pulumi.Sprintf("%s/%s", alb.arnSuffix, alb.targetSuffix),
				},
				TargetValue: pulumi.Float64(float64(s.ScaleRequestsPerTarget)),
			},
		}); err != nil {
			return err
		}
	}
	return nil
}

// trustedProxies are the peers whose X-Forwarded-For the app believes: the
// ALB (in the VPC) and, when bookstore:proxyCidr names it, the objective 1
// proxy in front of it, so login attempts count against each shopper's
// address rather than the proxy's.
func trustedProxies(vpc, proxy string) string {
	if proxy == "" {
		return vpc
	}
	return vpc + "," + proxy
}
