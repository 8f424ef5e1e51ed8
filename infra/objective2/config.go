package objective2

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/tet-bookstore/bookstore/infra/config"
)

// settings are objective 2's own keys (bookstore:KEY), read once and
// validated together; the app's release, port and environment come from the
// shared config.App.
type settings struct {
	// ProxyCidr is the only source admitted by the internal ALB: the
	// objective 1 proxy's subnet (config.ProxySubnet) by default, reached
	// through the VPC peering objective 1 creates.
	ProxyCidr string

	MinSize, DesiredCapacity, MaxSize int
	// HealthCheckGraceSeconds: how long a new instance may fail ELB health
	// checks before the group replaces it (boot + mount + first start).
	HealthCheckGraceSeconds int
	// MinHealthyPercent is kept during an instance refresh.
	MinHealthyPercent int
	// ScaleCPUPercent and ScaleRequestsPerTarget are target-tracking goals;
	// 0 turns that policy off.
	ScaleCPUPercent        int
	ScaleRequestsPerTarget int

	DBInstanceClass       string
	DBServerlessMinACU    float64
	DBServerlessMaxACU    float64 // > 0 selects Aurora Serverless v2
	DBBackupRetentionDays int
	DBDeletionProtection  bool
	DBSkipFinalSnapshot   bool
	DBClusterIdentifier   string

	ALBDeletionProtection bool
	ALBAccessLogs         bool
	LogRetentionDays      int
	// AlarmTopicArn receives alarm and recovery notifications; empty keeps
	// the alarms visible in the console only.
	AlarmTopicArn string
	// ImageBuildTimeout bounds the wait for the builder to power off.
	ImageBuildTimeout time.Duration

	// DrainDelay and ShutdownTimeout are the app's (BOOKSTORE_DRAIN_DELAY,
	// BOOKSTORE_SHUTDOWN_TIMEOUT, app/config defaults when unset): the load
	// balancer's deregistration delay and the unit's stop timeout follow them.
	DrainDelay, ShutdownTimeout time.Duration

	AdminPassword pulumi.StringOutput

	// DBSecretReaders are IAM role names of this account, in other stacks,
	// that may decrypt the database's master secret with this stack's key:
	// objective 3's manager (bookstore-objective3-swarm-manager) when it
	// uses this cluster.
	DBSecretReaders []string
}

// The app's defaults (app/config): kept here so the infrastructure does
// not import the app.
const (
	appDefaultDrainDelay      = 5 * time.Second
	appDefaultShutdownTimeout = 20 * time.Second
)

// DeregistrationDelaySeconds lets requests in flight on a leaving instance
// finish: the app's drain delay plus its shutdown timeout.
func (s *settings) DeregistrationDelaySeconds() int {
	return int(math.Ceil((s.DrainDelay + s.ShutdownTimeout).Seconds()))
}

// StopTimeoutSeconds is systemd's patience with a stopping app: the drain,
// the shutdown and a margin, so the app always exits on its own.
func (s *settings) StopTimeoutSeconds() int { return s.DeregistrationDelaySeconds() + 10 }

// loadSettings reads and validates objective 2's configuration; every
// problem is reported at once.
func loadSettings(ctx *pulumi.Context, cfg *config.Config) (*settings, error) {
	c := pconfig.New(ctx, config.Namespace)
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	integer := func(key string, def, lo, hi int) int {
		raw := c.Get(key)
		if raw == "" {
			return def
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < lo || n > hi {
			fail("bookstore:%s must be a whole number from %d to %d, got %q", key, lo, hi, raw)
			return def
		}
		return n
	}
	number := func(key string, def float64) float64 {
		raw := c.Get(key)
		if raw == "" {
			return def
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || f < 0 {
			fail("bookstore:%s must be a non-negative number, got %q", key, raw)
			return def
		}
		return f
	}
	boolean := func(key string, def bool) bool {
		raw := c.Get(key)
		if raw == "" {
			return def
		}
		b, err := strconv.ParseBool(raw)
		if err != nil {
			fail("bookstore:%s must be true or false, got %q", key, raw)
			return def
		}
		return b
	}

	s := &settings{
		ProxyCidr:               orDefault(c.Get("proxyCidr"), config.ProxySubnet),
		MinSize:                 integer("minSize", 1, 0, 100),
		DesiredCapacity:         integer("desiredCapacity", 2, 0, 100),
		MaxSize:                 integer("maxSize", 6, 1, 100),
		HealthCheckGraceSeconds: integer("healthCheckGracePeriod", 300, 30, 3600),
		MinHealthyPercent:       integer("minHealthyPercentage", 90, 50, 100),
		ScaleCPUPercent:         integer("scaleCpuTarget", 60, 0, 95),
		ScaleRequestsPerTarget:  integer("scaleRequestsPerTarget", 0, 0, 1000000),
		DBInstanceClass:         c.Get("dbInstanceClass"),
		DBServerlessMinACU:      number("dbServerlessMinAcu", 0.5),
		DBServerlessMaxACU:      number("dbServerlessMaxAcu", 0),
		DBBackupRetentionDays:   integer("dbBackupRetentionDays", 7, 1, 35),
		DBDeletionProtection:    boolean("dbDeletionProtection", true),
		DBSkipFinalSnapshot:     boolean("dbSkipFinalSnapshot", false),
		DBClusterIdentifier:     c.Get("dbClusterIdentifier"),
		ALBDeletionProtection:   boolean("albDeletionProtection", false),
		ALBAccessLogs:           boolean("albAccessLogs", false),
		LogRetentionDays:        integer("logRetentionDays", 30, 1, 3653),
		AlarmTopicArn:           c.Get("alarmTopicArn"),
		ImageBuildTimeout:       time.Duration(integer("imageBuildTimeoutMinutes", 30, 5, 120)) * time.Minute,
		DrainDelay:              appDefaultDrainDelay,
		ShutdownTimeout:         appDefaultShutdownTimeout,
	}
	if s.DBInstanceClass == "" {
		s.DBInstanceClass = "db.t4g.medium"
	} else if !strings.HasPrefix(s.DBInstanceClass, "db.") {
		fail("bookstore:dbInstanceClass must be an RDS instance class (db.r6g.large ...), got %q", s.DBInstanceClass)
	}
	config.ValidateProxyCidr(s.ProxyCidr, fail)
	if !(s.MinSize <= s.DesiredCapacity && s.DesiredCapacity <= s.MaxSize) || s.MaxSize < 1 {
		fail("the group needs minSize <= desiredCapacity <= maxSize, got %d/%d/%d", s.MinSize, s.DesiredCapacity, s.MaxSize)
	}
	if s.ScaleCPUPercent == 0 && s.ScaleRequestsPerTarget == 0 {
		fail("set bookstore:scaleCpuTarget or bookstore:scaleRequestsPerTarget: without a scaling policy the group never grows")
	}
	if s.DBServerlessMaxACU > 0 && s.DBServerlessMinACU > s.DBServerlessMaxACU {
		fail("bookstore:dbServerlessMinAcu (%g) exceeds dbServerlessMaxAcu (%g)", s.DBServerlessMinACU, s.DBServerlessMaxACU)
	}
	if s.AlarmTopicArn != "" && !strings.HasPrefix(s.AlarmTopicArn, "arn:aws") {
		fail("bookstore:alarmTopicArn must be an SNS topic ARN, got %q", s.AlarmTopicArn)
	}
	for key, target := range map[string]*time.Duration{"BOOKSTORE_DRAIN_DELAY": &s.DrainDelay, "BOOKSTORE_SHUTDOWN_TIMEOUT": &s.ShutdownTimeout} {
		if raw, ok := cfg.App.Env[key]; ok {
			d, err := time.ParseDuration(raw)
			if err != nil || d < 0 {
				fail("bookstore:appEnv %s must be a duration like 10s, got %q", key, raw)
				continue
			}
			*target = d
		}
	}
	if s.DeregistrationDelaySeconds() > 3600 {
		fail("BOOKSTORE_DRAIN_DELAY + BOOKSTORE_SHUTDOWN_TIMEOUT exceed the load balancer's 3600 s deregistration limit")
	}
	if _, ok := ctx.GetConfig(config.Namespace + ":dbSecretReaders"); ok {
		if err := c.TryObject("dbSecretReaders", &s.DBSecretReaders); err != nil {
			fail("bookstore:dbSecretReaders must be a list of IAM role names: %v", err)
		}
	}
	config.ValidateApp(cfg, fail)
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration of stack %s:\n  %s", ctx.Stack(), strings.Join(errs, "\n  "))
	}
	// Required: the app refuses to start on MySQL without an admin password.
	s.AdminPassword = c.RequireSecret("adminPassword")
	return s, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
