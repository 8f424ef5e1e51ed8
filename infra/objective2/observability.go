package objective2

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
)

// newLogGroup receives every instance's app and boot logs (one stream each,
// shipped by the CloudWatch agent) and keeps them bookstore:logRetentionDays.
func newLogGroup(ctx *pulumi.Context, cfg *config.Config, s *settings) (*cloudwatch.LogGroup, error) {
	return cloudwatch.NewLogGroup(ctx, "app", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/bookstore/" + cfg.Stack + "/app"),
		RetentionInDays: pulumi.Int(s.LogRetentionDays),
		Tags:            pulumi.StringMap{"project": pulumi.String("bookstore")},
	})
}

type alarm struct {
	name, description, namespace, metric, statistic string
	dimensions                                      pulumi.StringMap
	threshold                                       float64
	periods                                         int
}

// newAlarms: the ALB answering 5xx (its own or the app's), an instance
// failing its health check, and the database writer's CPU.
func newAlarms(ctx *pulumi.Context, s *settings, alb *loadBalancer, d *data) error {
	lbDims := pulumi.StringMap{"LoadBalancer": alb.arnSuffix}
	alarms := []alarm{
		{
			name: "alb-5xx", description: "The load balancer answered 5xx itself (no healthy instance, timeouts)",
			namespace: "AWS/ApplicationELB", metric: "HTTPCode_ELB_5XX_Count", statistic: "Sum",
			dimensions: lbDims, threshold: 10, periods: 2,
		},
		{
			name: "app-5xx", description: "The app answered 5xx",
			namespace: "AWS/ApplicationELB", metric: "HTTPCode_Target_5XX_Count", statistic: "Sum",
			dimensions: lbDims, threshold: 10, periods: 2,
		},
		{
			name: "unhealthy-hosts", description: "An instance fails /readyz",
			namespace: "AWS/ApplicationELB", metric: "UnHealthyHostCount", statistic: "Maximum",
			dimensions: pulumi.StringMap{"LoadBalancer": alb.arnSuffix, "TargetGroup": alb.targetSuffix},
			threshold:  0, periods: 3,
		},
		{
			// By role, not instance: the alarm follows the writer through a failover.
			name: "db-cpu", description: "The database writer's CPU stays high",
			namespace: "AWS/RDS", metric: "CPUUtilization", statistic: "Average",
			dimensions: pulumi.StringMap{"DBClusterIdentifier": d.db.ClusterIdentifier, "Role": pulumi.String("WRITER")},
			threshold:  80, periods: 3,
		},
	}
	var actions pulumi.Array
	if s.AlarmTopicArn != "" {
		actions = pulumi.Array{pulumi.String(s.AlarmTopicArn)}
	}
	for _, a := range alarms {
		if _, err := cloudwatch.NewMetricAlarm(ctx, a.name, &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.String(a.description),
			Namespace:          pulumi.String(a.namespace),
			MetricName:         pulumi.String(a.metric),
			Statistic:          pulumi.String(a.statistic),
			Dimensions:         a.dimensions,
			Period:             pulumi.Int(60),
			EvaluationPeriods:  pulumi.Int(a.periods),
			Threshold:          pulumi.Float64(a.threshold),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			// No data means no errors (ALB counts) or nothing to say yet.
			TreatMissingData: pulumi.String("notBreaching"),
			AlarmActions:     actions,
			OkActions:        actions,
			Tags:             pulumi.StringMap{"project": pulumi.String("bookstore")},
		}); err != nil {
			return err
		}
	}
	return nil
}
