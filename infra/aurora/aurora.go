// Package aurora is an Aurora MySQL 8.0 cluster for several app instances:
// a writer and a reader in different availability zones, encrypted storage,
// retained backups, deletion protection and a final snapshot unless told
// otherwise, TLS required by the cluster parameter group, the master
// password generated and kept by Secrets Manager, and 3306 open only to the
// given security groups.
package aurora

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/firewall"
)

// Args configures the cluster; zero values take the defaults, which are the
// safe ones (protected, snapshotted, backed up).
type Args struct {
	VpcID pulumi.IDInput
	// SubnetIDs are private subnets in at least two zones.
	SubnetIDs []pulumi.StringInput
	// Zones place the writer (Zones[0]) and the reader (Zones[1]).
	Zones []string
	// ClientGroupIDs are the security groups admitted on 3306.
	ClientGroupIDs []pulumi.IDInput
	// DatabaseName is created with the cluster; default "bookstore".
	DatabaseName string
	// MasterUsername; default "bookstore". Its password never leaves
	// Secrets Manager: see MasterSecretArn.
	MasterUsername string
	// EngineVersion; default DefaultEngineVersion (MySQL 8.0 compatible).
	EngineVersion string
	// InstanceClass of both instances; default db.t4g.medium. Ignored with
	// Serverless.
	InstanceClass string
	// Serverless, when set, makes both instances Aurora Serverless v2
	// scaling between these capacities (ACUs).
	Serverless *Serverless
	// BackupRetentionDays; default 7.
	BackupRetentionDays int
	// AllowDeletion turns deletion protection off (on by default).
	AllowDeletion bool
	// SkipFinalSnapshot deletes without a last snapshot (one is taken by
	// default).
	SkipFinalSnapshot bool
	// SecretKmsKeyID is the customer-managed key the master secret is
	// encrypted under (required: the AWS-managed aws/secretsmanager key lets
	// every principal of the account decrypt).
	SecretKmsKeyID pulumi.StringInput
	// LogRetentionDays of the exported error and slow-query logs; default 30.
	LogRetentionDays int
	// ClusterIdentifier is the cluster's physical name (default NAME-STACK,
	// for new stacks). A stack whose cluster Pulumi auto-named must set it
	// to that cluster's identifier: the identifier is ForceNew, and a new
	// one would mean a new, empty cluster. The log groups follow it.
	ClusterIdentifier string
}

// clusterIdentifierPattern is RDS's rule for a DB cluster identifier.
var clusterIdentifierPattern = regexp.MustCompile(`^[a-z]([a-z0-9]|-[a-z0-9]){0,62}$`)

// exportedLogs are the logs the cluster sends to CloudWatch.
var exportedLogs = []string{"error", "slowquery"}

// Serverless is Aurora Serverless v2's capacity range.
type Serverless struct{ MinACU, MaxACU float64 }

// DefaultEngineVersion is an Aurora MySQL 3 (MySQL 8.0) long-term-support release.
const DefaultEngineVersion = "8.0.mysql_aurora.3.04.4"

// Cluster is the component.
type Cluster struct {
	pulumi.ResourceState

	ClusterIdentifier pulumi.StringOutput
	// Endpoint is the writer's DNS name, ReaderEndpoint the readers'.
	Endpoint       pulumi.StringOutput
	ReaderEndpoint pulumi.StringOutput
	Port           int
	DatabaseName   string
	// MasterSecretArn is the Secrets Manager secret holding
	// {"username":...,"password":...}; RDS rotates it.
	MasterSecretArn pulumi.StringOutput
	SecurityGroupID pulumi.IDOutput
	// WriterIdentifier and ReaderIdentifier name the instances, for alarms.
	WriterIdentifier pulumi.StringOutput
	ReaderIdentifier pulumi.StringOutput
}

const port = 3306

var identifierPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,15}$`)

func (a *Args) withDefaults() (Args, error) {
	out := *a
	if out.DatabaseName == "" {
		out.DatabaseName = "bookstore"
	}
	if out.MasterUsername == "" {
		out.MasterUsername = "bookstore"
	}
	if out.EngineVersion == "" {
		out.EngineVersion = DefaultEngineVersion
	}
	if out.InstanceClass == "" {
		out.InstanceClass = "db.t4g.medium"
	}
	if out.BackupRetentionDays == 0 {
		out.BackupRetentionDays = 7
	}
	if out.LogRetentionDays == 0 {
		out.LogRetentionDays = 30
	}
	switch {
	case out.VpcID == nil || len(out.SubnetIDs) < 2:
		return out, fmt.Errorf("aurora: VpcID and subnets in at least two zones are required")
	case len(out.Zones) < 2 || out.Zones[0] == out.Zones[1]:
		return out, fmt.Errorf("aurora: the writer and the reader need two different zones, got %v", out.Zones)
	case out.SecretKmsKeyID == nil:
		return out, fmt.Errorf("aurora: SecretKmsKeyID is required: the master secret must be under the stack's key")
	case len(out.ClientGroupIDs) == 0:
		return out, fmt.Errorf("aurora: no client security group: nobody could connect")
	case !identifierPattern.MatchString(out.DatabaseName) || !identifierPattern.MatchString(out.MasterUsername):
		return out, fmt.Errorf("aurora: database %q and user %q must be lower-case identifiers of at most 16 characters", out.DatabaseName, out.MasterUsername)
	case out.ClusterIdentifier != "" && !clusterIdentifierPattern.MatchString(out.ClusterIdentifier):
		return out, fmt.Errorf("aurora: cluster identifier %q must be lower-case letters, digits and single hyphens, starting with a letter, at most 63 characters", out.ClusterIdentifier)
	case out.BackupRetentionDays < 1 || out.BackupRetentionDays > 35:
		return out, fmt.Errorf("aurora: backups are kept 1 to 35 days, got %d", out.BackupRetentionDays)
	case out.Serverless != nil && (out.Serverless.MinACU < 0 || out.Serverless.MaxACU < 1 || out.Serverless.MinACU > out.Serverless.MaxACU || out.Serverless.MaxACU > 256):
		return out, fmt.Errorf("aurora: serverless capacity %g..%g ACU is not a range within 0..256 with a maximum of at least 1", out.Serverless.MinACU, out.Serverless.MaxACU)
	}
	return out, nil
}

// New declares the security group, subnet group, parameter group, cluster,
// writer and reader.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if args == nil {
		args = &Args{}
	}
	a, err := args.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Port: port, DatabaseName: a.DatabaseName}
	if err := ctx.RegisterComponentResource("bookstore:aurora:Cluster", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	tags := pulumi.StringMap{"Name": pulumi.String(name), "project": pulumi.String("bookstore")}

	var rules []firewall.Rule
	for i, g := range a.ClientGroupIDs {
		rules = append(rules, firewall.Rule{Name: fmt.Sprintf("mysql-%d", i+1), Port: port, FromGroup: g, Description: "MySQL from a client group"})
	}
	group, err := firewall.New(ctx, name+"-db", &firewall.Args{
		VpcID: a.VpcID, Description: "Aurora: MySQL from the client groups only", Ingress: rules,
	}, parent)
	if err != nil {
		return nil, err
	}
	subnets, err := rds.NewSubnetGroup(ctx, name, &rds.SubnetGroupArgs{
		Description: pulumi.String("Private subnets of " + name),
		SubnetIds:   pulumi.StringArray(a.SubnetIDs),
		Tags:        tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	params, err := rds.NewClusterParameterGroup(ctx, name, &rds.ClusterParameterGroupArgs{
		Family:      pulumi.String("aurora-mysql8.0"),
		Description: pulumi.String("TLS required for " + name),
		Parameters: rds.ClusterParameterGroupParameterArray{
			// pending-reboot is valid for static and dynamic parameters alike;
			// a new cluster starts with it either way.
			rds.ClusterParameterGroupParameterArgs{Name: pulumi.String("require_secure_transport"), Value: pulumi.String("ON"), ApplyMethod: pulumi.String("pending-reboot")},
		},
		Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	// RDS creates /aws/rds/cluster/ID/TYPE itself, without retention, the
	// first time it exports: the groups exist first, so the identifier is
	// fixed (ClusterIdentifier, default NAME-STACK) rather than auto-named.
	identifier := a.ClusterIdentifier
	if identifier == "" {
		identifier = name + "-" + ctx.Stack()
	}
	var logGroups []pulumi.Resource
	for _, typ := range exportedLogs {
		g, err := cloudwatch.NewLogGroup(ctx, name+"-"+typ+"-log", &cloudwatch.LogGroupArgs{
			Name:            pulumi.String("/aws/rds/cluster/" + identifier + "/" + typ),
			RetentionInDays: pulumi.Int(a.LogRetentionDays),
			Tags:            tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		logGroups = append(logGroups, g)
	}
	exports := pulumi.StringArray{}
	for _, typ := range exportedLogs {
		exports = append(exports, pulumi.String(typ))
	}
	clusterArgs := &rds.ClusterArgs{
		ClusterIdentifier:            pulumi.String(identifier),
		MasterUserSecretKmsKeyId:     a.SecretKmsKeyID,
		Engine:                       pulumi.String("aurora-mysql"),
		EngineVersion:                pulumi.String(a.EngineVersion),
		DatabaseName:                 pulumi.String(a.DatabaseName),
		MasterUsername:               pulumi.String(a.MasterUsername),
		ManageMasterUserPassword:     pulumi.Bool(true),
		Port:                         pulumi.Int(port),
		DbSubnetGroupName:            subnets.Name,
		DbClusterParameterGroupName:  params.Name,
		VpcSecurityGroupIds:          pulumi.StringArray{group.ID.ToStringOutput()},
		StorageEncrypted:             pulumi.Bool(true),
		BackupRetentionPeriod:        pulumi.Int(a.BackupRetentionDays),
		PreferredBackupWindow:        pulumi.String("03:00-04:00"),
		PreferredMaintenanceWindow:   pulumi.String("sun:04:30-sun:05:30"),
		CopyTagsToSnapshot:           pulumi.Bool(true),
		DeletionProtection:           pulumi.Bool(!a.AllowDeletion),
		SkipFinalSnapshot:            pulumi.Bool(a.SkipFinalSnapshot),
		EnabledCloudwatchLogsExports: exports,
		Tags:                         tags,
	}
	if !a.SkipFinalSnapshot {
		clusterArgs.FinalSnapshotIdentifier = pulumi.String(name + "-final")
	}
	class := a.InstanceClass
	if a.Serverless != nil {
		class = "db.serverless"
		clusterArgs.Serverlessv2ScalingConfiguration = rds.ClusterServerlessv2ScalingConfigurationArgs{
			MinCapacity: pulumi.Float64(a.Serverless.MinACU),
			MaxCapacity: pulumi.Float64(a.Serverless.MaxACU),
		}
	}
	cluster, err := rds.NewCluster(ctx, name, clusterArgs, parent, pulumi.DependsOn(logGroups),
		// AWS adds the zones it picked; declaring none and ignoring them keeps
		// later updates from replacing the cluster. RDS refuses to change
		// the key of a master secret that exists (ModifyDBCluster), so a
		// cluster whose secret is under another key keeps it: moving it
		// means turning manageMasterUserPassword off and on deliberately.
		pulumi.IgnoreChanges([]string{"availabilityZones", "masterUserSecretKmsKeyId"}))
	if err != nil {
		return nil, err
	}
	writer, err := instance(ctx, name+"-writer", cluster, a, class, a.Zones[0], 0, parent)
	if err != nil {
		return nil, err
	}
	// The reader is created after the writer, so the writer is the one
	// Aurora makes primary; on failover the reader (tier 1) is promoted.
	reader, err := instance(ctx, name+"-reader", cluster, a, class, a.Zones[1], 1, parent, pulumi.DependsOn([]pulumi.Resource{writer}))
	if err != nil {
		return nil, err
	}
	c.ClusterIdentifier, c.Endpoint, c.ReaderEndpoint, c.SecurityGroupID = cluster.ClusterIdentifier, cluster.Endpoint, cluster.ReaderEndpoint, group.ID
	c.MasterSecretArn = cluster.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem()
	c.WriterIdentifier, c.ReaderIdentifier = writer.Identifier, reader.Identifier
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"endpoint": cluster.Endpoint, "readerEndpoint": cluster.ReaderEndpoint})
}

func instance(ctx *pulumi.Context, name string, cluster *rds.Cluster, a Args, class, zone string, tier int, opts ...pulumi.ResourceOption) (*rds.ClusterInstance, error) {
	return rds.NewClusterInstance(ctx, name, &rds.ClusterInstanceArgs{
		ClusterIdentifier:       cluster.ID(),
		Engine:                  pulumi.String("aurora-mysql"),
		EngineVersion:           pulumi.String(a.EngineVersion),
		InstanceClass:           pulumi.String(class),
		AvailabilityZone:        pulumi.String(zone),
		PromotionTier:           pulumi.Int(tier),
		PubliclyAccessible:      pulumi.Bool(false),
		AutoMinorVersionUpgrade: pulumi.Bool(false), // AWS advises against it on LTS releases; it would also drift from EngineVersion
		CopyTagsToSnapshot:      pulumi.Bool(true),
		Tags:                    pulumi.StringMap{"Name": pulumi.String(name), "project": pulumi.String("bookstore")},
	}, opts...)
}
