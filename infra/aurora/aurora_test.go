package aurora_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/aurora"
	"github.com/tet-bookstore/bookstore/infra/pulumitest"
)

const (
	clusterType  = "aws:rds/cluster:Cluster"
	instanceType = "aws:rds/clusterInstance:ClusterInstance"
)

func baseArgs() *aurora.Args {
	return &aurora.Args{
		VpcID:          pulumi.ID("vpc-1"),
		SubnetIDs:      []pulumi.StringInput{pulumi.String("subnet-a"), pulumi.String("subnet-b")},
		Zones:          []string{"us-east-1a", "us-east-1b"},
		ClientGroupIDs: []pulumi.IDInput{pulumi.ID("sg-app")},
		SecretKmsKeyID: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/stack"),
	}
}

func build(t *testing.T, mutate func(*aurora.Args)) (*pulumitest.Mocks, string) {
	t.Helper()
	secret := make(chan string, 1)
	m := &pulumitest.Mocks{Outputs: func(typ, name string, _ resource.PropertyMap) map[string]any {
		if typ == clusterType {
			return map[string]any{
				"endpoint":          name + ".cluster-x.us-east-1.rds.amazonaws.com",
				"masterUserSecrets": []any{map[string]any{"secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1"}},
			}
		}
		return nil
	}}
	pulumitest.Run(t, m, func(ctx *pulumi.Context) error {
		args := baseArgs()
		if mutate != nil {
			mutate(args)
		}
		c, err := aurora.New(ctx, "db", args)
		if err != nil {
			return err
		}
		c.MasterSecretArn.ApplyT(func(s string) string { secret <- s; return s })
		return nil
	})
	return m, <-secret
}

func TestSafeDefaults(t *testing.T) {
	m, secret := build(t, nil)
	c := m.One(t, clusterType, "db").Inputs
	for key, want := range map[string]any{
		"engine":                   "aurora-mysql",
		"storageEncrypted":         true,
		"deletionProtection":       true,
		"skipFinalSnapshot":        false,
		"finalSnapshotIdentifier":  "db-final",
		"manageMasterUserPassword": true,
		"backupRetentionPeriod":    7.0,
		"databaseName":             "bookstore",
	} {
		if c[key] != want {
			t.Errorf("cluster %s = %v, want %v", key, c[key], want)
		}
	}
	if !strings.HasPrefix(pulumitest.Str(c["engineVersion"]), "8.0.mysql_aurora.3.") {
		t.Errorf("engine version %v is not MySQL 8.0 compatible Aurora 3", c["engineVersion"])
	}
	if _, ok := c["masterPassword"]; ok {
		t.Error("the master password must be managed by Secrets Manager, not passed in")
	}
	if !strings.HasPrefix(secret, "arn:aws:secretsmanager:") {
		t.Errorf("MasterSecretArn = %q", secret)
	}
}

// The master secret is under the stack's key, and RDS's exported logs go to
// groups that exist before the cluster and expire (RDS would otherwise
// create them itself, keeping every event forever).
func TestSecretKeyAndExpiringLogGroups(t *testing.T) {
	m, _ := build(t, nil)
	c := m.One(t, clusterType, "db")
	if c.Inputs["masterUserSecretKmsKeyId"] != "arn:aws:kms:us-east-1:123456789012:key/stack" {
		t.Errorf("master secret key %v", c.Inputs["masterUserSecretKmsKeyId"])
	}
	if c.Inputs["clusterIdentifier"] != "db-test" {
		t.Fatalf("the identifier must be fixed (NAME-STACK) so the log groups can exist first, got %v", c.Inputs["clusterIdentifier"])
	}
	for _, typ := range []string{"error", "slowquery"} {
		g := m.One(t, "aws:cloudwatch/logGroup:LogGroup", "db-"+typ+"-log")
		if g.Inputs["name"] != "/aws/rds/cluster/db-test/"+typ || g.Inputs["retentionInDays"] != 30.0 {
			t.Errorf("log group %v", g.Inputs)
		}
		found := false
		for _, urn := range c.DependsOn {
			found = found || strings.HasSuffix(urn, "::db-"+typ+"-log")
		}
		if !found {
			t.Errorf("the cluster must depend on the %s log group: %v", typ, c.DependsOn)
		}
	}
}

func TestDeletionCanBeAllowedExplicitly(t *testing.T) {
	m, _ := build(t, func(a *aurora.Args) { a.AllowDeletion, a.SkipFinalSnapshot = true, true })
	c := m.One(t, clusterType, "db").Inputs
	if c["deletionProtection"] != false || c["skipFinalSnapshot"] != true || c["finalSnapshotIdentifier"] != nil {
		t.Errorf("AllowDeletion/SkipFinalSnapshot not applied: %v", c)
	}
}

func TestParameterGroupRequiresTLS(t *testing.T) {
	m, _ := build(t, nil)
	pg := m.One(t, "aws:rds/clusterParameterGroup:ClusterParameterGroup", "db").Inputs
	found := false
	for _, p := range pulumitest.List(pg["parameters"]) {
		if pulumitest.Map(p)["name"] == "require_secure_transport" && pulumitest.Map(p)["value"] == "ON" {
			found = true
		}
	}
	if !found || pg["family"] != "aurora-mysql8.0" {
		t.Errorf("parameter group must set require_secure_transport=ON: %v", pg)
	}
	if m.One(t, clusterType, "db").Inputs["dbClusterParameterGroupName"] == nil {
		t.Error("the cluster must use the parameter group")
	}
}

func TestWriterAndReaderInDifferentZones(t *testing.T) {
	m, _ := build(t, nil)
	w, r := m.One(t, instanceType, "db-writer").Inputs, m.One(t, instanceType, "db-reader").Inputs
	if w["availabilityZone"] != "us-east-1a" || r["availabilityZone"] != "us-east-1b" {
		t.Errorf("writer in %v, reader in %v", w["availabilityZone"], r["availabilityZone"])
	}
	for _, in := range []map[string]any{w, r} {
		if in["publiclyAccessible"] != false || in["instanceClass"] != "db.t4g.medium" || in["clusterIdentifier"] != "db-id" {
			t.Errorf("instance: %v", in)
		}
	}
}

func TestServerlessV2(t *testing.T) {
	m, _ := build(t, func(a *aurora.Args) { a.Serverless = &aurora.Serverless{MinACU: 0.5, MaxACU: 4} })
	scaling := pulumitest.Map(m.One(t, clusterType, "db").Inputs["serverlessv2ScalingConfiguration"])
	if scaling["minCapacity"] != 0.5 || scaling["maxCapacity"] != 4.0 {
		t.Errorf("serverless scaling %v", scaling)
	}
	for _, i := range m.Find(instanceType, "") {
		if i.Inputs["instanceClass"] != "db.serverless" {
			t.Errorf("%s: class %v, want db.serverless", i.Name, i.Inputs["instanceClass"])
		}
	}
}

func TestMySQLOnlyFromClientGroups(t *testing.T) {
	m, _ := build(t, nil)
	n := 0
	for _, r := range m.Find("aws:ec2/securityGroupRule:SecurityGroupRule", "") {
		if r.Inputs["type"] != "ingress" {
			continue
		}
		n++
		if r.Inputs["fromPort"] != 3306.0 || r.Inputs["sourceSecurityGroupId"] != "sg-app" || r.Inputs["cidrBlocks"] != nil {
			t.Errorf("%s: %v", r.Name, r.Inputs)
		}
	}
	if n != 1 {
		t.Errorf("want one ingress rule, got %d", n)
	}
}

func TestBadArgsAreRefused(t *testing.T) {
	for name, mutate := range map[string]func(*aurora.Args){
		"one zone":         func(a *aurora.Args) { a.Zones = []string{"us-east-1a", "us-east-1a"} },
		"no clients":       func(a *aurora.Args) { a.ClientGroupIDs = nil },
		"bad serverless":   func(a *aurora.Args) { a.Serverless = &aurora.Serverless{MinACU: 8, MaxACU: 2} },
		"bad db name":      func(a *aurora.Args) { a.DatabaseName = "Book-Store" },
		"backups too long": func(a *aurora.Args) { a.BackupRetentionDays = 90 },
		"aws-managed key":  func(a *aurora.Args) { a.SecretKmsKeyID = nil },
	} {
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			args := baseArgs()
			mutate(args)
			_, err := aurora.New(ctx, "db", args)
			return err
		}, pulumi.WithMocks("bookstore", "test", &pulumitest.Mocks{}))
		if err == nil || !strings.Contains(err.Error(), "aurora:") {
			t.Errorf("%s: want an aurora error, got %v", name, err)
		}
	}
}

// An existing stack's auto-named cluster keeps its identifier (it is
// ForceNew), and the log groups follow it; RDS cannot move an existing
// master secret to another key, so Pulumi never tries.
func TestExistingClusterKeepsItsIdentifierAndSecretKey(t *testing.T) {
	m, _ := build(t, func(a *aurora.Args) { a.ClusterIdentifier = "db-4f2a1c9" })
	c := m.One(t, clusterType, "db")
	if c.Inputs["clusterIdentifier"] != "db-4f2a1c9" {
		t.Errorf("identifier %v, want the configured one", c.Inputs["clusterIdentifier"])
	}
	for _, typ := range []string{"error", "slowquery"} {
		if g := m.One(t, "aws:cloudwatch/logGroup:LogGroup", "db-"+typ+"-log"); g.Inputs["name"] != "/aws/rds/cluster/db-4f2a1c9/"+typ {
			t.Errorf("log group %v does not follow the identifier", g.Inputs["name"])
		}
	}
	if !slices.Contains(c.IgnoreChanges, "masterUserSecretKmsKeyId") {
		t.Errorf("ignoreChanges %v must hold masterUserSecretKmsKeyId", c.IgnoreChanges)
	}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		args := baseArgs()
		args.ClusterIdentifier = "Bad_Name"
		_, err := aurora.New(ctx, "db", args)
		return err
	}, pulumi.WithMocks("bookstore", "test", &pulumitest.Mocks{}))
	if err == nil || !strings.Contains(err.Error(), "cluster identifier") {
		t.Errorf("want a cluster identifier error, got %v", err)
	}
}
