// Package objective2 is the monolith at scale: the app baked into an AMI,
// an autoscaling group (1/2/6) in private subnets behind an Application
// Load Balancer, Aurora MySQL shared by every instance, EFS for the uploads,
// CloudWatch alarms and logs. The objective 1 proxy fronts the ALB through
// the exported proxyUpstream.
package objective2

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/privatenet"
)

// Run declares objective 2's resources and exports its outputs; it is the
// body of `pulumi up` and of the offline plan alike.
func Run(ctx *pulumi.Context, cfg *config.Config) error {
	s, err := loadSettings(ctx, cfg)
	if err != nil {
		return err
	}
	net, err := privatenet.New(ctx, "bookstore", nil)
	if err != nil {
		return err
	}
	groups, err := newSecurityGroups(ctx, cfg, s, net.VpcID)
	if err != nil {
		return err
	}
	data, err := newData(ctx, cfg, s, net, groups.app)
	if err != nil {
		return err
	}
	image, err := newImage(ctx, cfg, s, net, groups.builder)
	if err != nil {
		return err
	}
	alb, err := newLoadBalancer(ctx, cfg, s, net, groups.alb)
	if err != nil {
		return err
	}
	logs, err := newLogGroup(ctx, cfg, s)
	if err != nil {
		return err
	}
	asg, err := newAppGroup(ctx, cfg, s, appGroupArgs{net: net, group: groups.app, image: image, alb: alb, data: data, logs: logs})
	if err != nil {
		return err
	}
	if err := newAlarms(ctx, s, alb, data); err != nil {
		return err
	}
	ctx.Export("proxyUpstream", pulumi.Sprintf("%s:80", alb.dnsName))
	ctx.Export("albDnsName", alb.dnsName)
	ctx.Export("url", pulumi.String("https://objective2."+cfg.DNS.Apex()+"/"))
	ctx.Export("amiId", image.id)
	ctx.Export("autoscalingGroupName", asg.name)
	ctx.Export("dbEndpoint", data.db.Endpoint)
	ctx.Export("dbReaderEndpoint", data.db.ReaderEndpoint)
	ctx.Export("dbSecretArn", data.db.MasterSecretArn)
	// The key the master secret is under: a reader in another stack (objective
	// 3's manager, named in bookstore:dbSecretReaders) needs it in its policy.
	ctx.Export("secretsKeyArn", data.key.Arn)
	// What objective 3's bookstore:databaseStack needs to peer with this
	// VPC and reach the cluster (infra/objective3/database.go).
	ctx.Export("dbSecurityGroupId", data.db.SecurityGroupID)
	ctx.Export("vpcId", net.VpcID)
	ctx.Export("vpcCidr", pulumi.String(net.CidrBlock))
	ctx.Export("privateRouteTableId", net.PrivateRouteTableID)
	ctx.Export("fileSystemId", data.files.ID)
	ctx.Export("logGroup", logs.Name)
	return nil
}
