package objective3

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newEntryPoint is an internal Network Load Balancer on port 80 in front of
// every node's routing mesh, in the private subnets. The objective 1 proxy
// reaches it through the VPC peering objective 1 creates, so the hop never
// crosses the internet; the balancer's address survives the loss of any
// node (a manager's would not), and its health check takes a node out
// within seconds. Its security group admits only bookstore:proxyCidr.
func newEntryPoint(ctx *pulumi.Context, vpc pulumi.IDOutput, subnets pulumi.StringArray, group pulumi.IDOutput, nodes []*node) (pulumi.StringOutput, error) {
	nlb, err := lb.NewLoadBalancer(ctx, "swarm-entry", &lb.LoadBalancerArgs{
		LoadBalancerType:             pulumi.String("network"),
		Internal:                     pulumi.Bool(true),
		Subnets:                      subnets,
		SecurityGroups:               pulumi.StringArray{group.ToStringOutput()},
		EnableCrossZoneLoadBalancing: pulumi.Bool(true),
		Tags:                         pulumi.StringMap{"project": pulumi.String("bookstore")},
	})
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	targets, err := lb.NewTargetGroup(ctx, "swarm-gateway", &lb.TargetGroupArgs{
		Port:                pulumi.Int(80),
		Protocol:            pulumi.String("TCP"),
		TargetType:          pulumi.String("instance"),
		VpcId:               vpc,
		DeregistrationDelay: pulumi.Int(30),
		// The routing mesh hides the sender behind its own address; the
		// header names it to the gateway (health checks carry one too).
		ProxyProtocolV2: pulumi.Bool(true),
		HealthCheck: lb.TargetGroupHealthCheckArgs{
			Protocol:           pulumi.String("HTTP"),
			Path:               pulumi.String("/healthz"), // answered by the gateway itself
			Port:               pulumi.String("traffic-port"),
			Matcher:            pulumi.String("200"),
			Interval:           pulumi.Int(10),
			HealthyThreshold:   pulumi.Int(2),
			UnhealthyThreshold: pulumi.Int(2),
		},
		Tags: pulumi.StringMap{"project": pulumi.String("bookstore")},
	})
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	for i, n := range nodes {
		if _, err := lb.NewTargetGroupAttachment(ctx, fmt.Sprintf("swarm-gateway-%d", i), &lb.TargetGroupAttachmentArgs{
			TargetGroupArn: targets.Arn,
			TargetId:       n.vm.ID(),
			Port:           pulumi.Int(80),
		}); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	if _, err := lb.NewListener(ctx, "swarm-http", &lb.ListenerArgs{
		LoadBalancerArn: nlb.Arn,
		Port:            pulumi.Int(80),
		Protocol:        pulumi.String("TCP"),
		DefaultActions: lb.ListenerDefaultActionArray{
			lb.ListenerDefaultActionArgs{Type: pulumi.String("forward"), TargetGroupArn: targets.Arn},
		},
	}); err != nil {
		return pulumi.StringOutput{}, err
	}
	return nlb.DnsName, nil
}
