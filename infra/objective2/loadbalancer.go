package objective2

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/firewall"
	"github.com/tet-bookstore/bookstore/infra/privatenet"
)

// Health checking of the instances: /readyz is 200 once the app has its
// database and 503 from SIGTERM on, so a leaving instance stops receiving
// new requests before it stops listening.
const (
	healthPath               = "/readyz"
	healthInterval           = 10 // seconds
	healthTimeout            = 5
	healthyThreshold         = 2
	unhealthyThreshold       = 2
	accessLogRetentionInDays = 30
)

type loadBalancer struct {
	dnsName        pulumi.StringOutput
	arnSuffix      pulumi.StringOutput
	targetGroupArn pulumi.StringOutput
	targetSuffix   pulumi.StringOutput
}

// newLoadBalancer is an internal ALB in the private subnets with one HTTP
// listener: TLS ends at the objective 1 proxy, which reaches it through the
// VPC peering, so the hop never crosses the internet (infra/README.md).
func newLoadBalancer(ctx *pulumi.Context, cfg *config.Config, s *settings, net *privatenet.Network, group *firewall.Group) (*loadBalancer, error) {
	args := &lb.LoadBalancerArgs{
		LoadBalancerType:         pulumi.String("application"),
		Internal:                 pulumi.Bool(true),
		Subnets:                  net.PrivateSubnets(),
		SecurityGroups:           pulumi.StringArray{group.ID.ToStringOutput()},
		DropInvalidHeaderFields:  pulumi.Bool(true),
		EnableDeletionProtection: pulumi.Bool(s.ALBDeletionProtection),
		IdleTimeout:              pulumi.Int(60),
		Tags:                     pulumi.StringMap{"Name": pulumi.String("bookstore"), "project": pulumi.String("bookstore")},
	}
	if s.ALBAccessLogs {
		bucket, err := newAccessLogBucket(ctx, cfg)
		if err != nil {
			return nil, err
		}
		args.AccessLogs = lb.LoadBalancerAccessLogsArgs{Bucket: bucket, Enabled: pulumi.Bool(true), Prefix: pulumi.String("alb")}
	}
	alb, err := lb.NewLoadBalancer(ctx, "bookstore", args)
	if err != nil {
		return nil, err
	}
	tg, err := lb.NewTargetGroup(ctx, "app", &lb.TargetGroupArgs{
		VpcId:      net.VpcID.ToStringOutput(),
		TargetType: pulumi.String("instance"),
		Protocol:   pulumi.String("HTTP"),
		Port:       pulumi.Int(cfg.App.Port),
		// Requests in flight on a leaving instance get the app's whole
		// graceful shutdown (BOOKSTORE_DRAIN_DELAY + BOOKSTORE_SHUTDOWN_TIMEOUT).
		DeregistrationDelay: pulumi.Int(s.DeregistrationDelaySeconds()),
		HealthCheck: lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Protocol:           pulumi.String("HTTP"),
			Port:               pulumi.String("traffic-port"),
			Path:               pulumi.String(healthPath),
			Matcher:            pulumi.String("200"),
			Interval:           pulumi.Int(healthInterval),
			Timeout:            pulumi.Int(healthTimeout),
			HealthyThreshold:   pulumi.Int(healthyThreshold),
			UnhealthyThreshold: pulumi.Int(unhealthyThreshold),
		},
		Tags: pulumi.StringMap{"project": pulumi.String("bookstore")},
	})
	if err != nil {
		return nil, err
	}
	if _, err := lb.NewListener(ctx, "http", &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn,
		Port:            pulumi.Int(80),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions: lb.ListenerDefaultActionArray{
			lb.ListenerDefaultActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tg.Arn},
		},
	}); err != nil {
		return nil, err
	}
	return &loadBalancer{dnsName: alb.DnsName, arnSuffix: alb.ArnSuffix, targetGroupArn: tg.Arn, targetSuffix: tg.ArnSuffix}, nil
}

// elbAccounts are Elastic Load Balancing's log-writing accounts in the
// regions older than August 2022; newer regions use the service principal.
var elbAccounts = map[string]string{
	"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980", "us-west-2": "797873946194",
	"eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-west-3": "009996457667", "eu-central-1": "054676820928",
	"eu-north-1": "897822967062", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266", "ap-northeast-1": "582318560864",
}

// newAccessLogBucket is a private, encrypted bucket the ALB may write its
// logs to (bookstore:albAccessLogs); logs expire after 30 days.
func newAccessLogBucket(ctx *pulumi.Context, cfg *config.Config) (pulumi.StringOutput, error) {
	bucket, err := s3.NewBucketV2(ctx, "alb-logs", &s3.BucketV2Args{
		ForceDestroy: pulumi.Bool(true), // logs only: `pulumi destroy` may empty it
		Tags:         pulumi.StringMap{"project": pulumi.String("bookstore")},
	})
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if _, err := s3.NewBucketPublicAccessBlock(ctx, "alb-logs", &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}); err != nil {
		return pulumi.StringOutput{}, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, "alb-logs", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			// ALB log delivery supports SSE-S3 only.
			s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")},
			},
		},
	}); err != nil {
		return pulumi.StringOutput{}, err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, "alb-logs", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
			Id: pulumi.String("expire"), Status: pulumi.String("Enabled"),
			Filter:     s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
			Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(accessLogRetentionInDays)},
		}},
	}); err != nil {
		return pulumi.StringOutput{}, err
	}
	region := pconfig.Get(ctx, "aws:region")
	policy := bucket.Arn.ApplyT(func(arn string) (string, error) {
		principals := []map[string]any{{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}}
		if account, ok := elbAccounts[region]; ok {
			principals = append(principals, map[string]any{"AWS": "arn:aws:iam::" + account + ":root"})
		}
		var statements []map[string]any
		for _, p := range principals {
			statements = append(statements, map[string]any{
				"Effect": "Allow", "Principal": p, "Action": "s3:PutObject", "Resource": arn + "/alb/AWSLogs/*",
			})
		}
		b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := s3.NewBucketPolicy(ctx, "alb-logs", &s3.BucketPolicyArgs{Bucket: bucket.ID(), Policy: policy}); err != nil {
		return pulumi.StringOutput{}, err
	}
	return bucket.Bucket, nil
}
