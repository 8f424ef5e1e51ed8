package objective3

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/tet-bookstore/bookstore/infra/config"
)

// Config is objective 3's settings, read once and validated before any
// resource is declared. Keys shared by every objective (ami, sshCidr) come
// from infra/config.
type Config struct {
	Stack string
	// Managers is 1 (one manager, two workers) or 3 (all managers: raft
	// keeps its quorum when one node is lost).
	Managers     int
	InstanceType string
	AMI          string
	SSHCidr      string
	// ProxyCidr admits the gateway only from the objective 1 proxy: its
	// subnet (config.ProxySubnet, over objective 1's VPC peering) by default.
	ProxyCidr string
	// Registry replaces the ECR repository the program creates.
	Registry     string
	ImageTag     string
	GatewayImage string
	AdminEmail   string
	// AdminPassword is a Pulumi secret; without it the manager generates
	// one at first boot and keeps it in SSM.
	AdminPassword    pulumi.StringOutput
	HasAdminPassword bool
	// DatabaseStack uses objective 2's Aurora cluster instead of a new one.
	DatabaseStack string
	DBMinACU      float64
	// DBClusterIdentifier is bookstore:dbClusterIdentifier (aurora.Args).
	DBClusterIdentifier string
	DBMaxACU            float64
}

var (
	registryPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*$`)
	tagPattern      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	imagePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@-]*$`)
	emailPattern    = regexp.MustCompile(`^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`)
	stackPattern    = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
)

// loadConfig reads bookstore:* keys of objective 3; every problem is
// reported at once, one line each.
func loadConfig(ctx *pulumi.Context, base *config.Config) (*Config, error) {
	c := pconfig.New(ctx, config.Namespace)
	cfg := &Config{
		Stack:               base.Stack,
		AMI:                 base.AMI,
		SSHCidr:             base.SSHCidr,
		InstanceType:        orDefault(c.Get("nodeInstanceType"), "t3.small"),
		ProxyCidr:           c.Get("proxyCidr"),
		Registry:            c.Get("registry"),
		ImageTag:            c.Get("imageTag"),
		GatewayImage:        c.Get("gatewayImage"),
		AdminEmail:          c.Get("adminEmail"),
		DatabaseStack:       c.Get("databaseStack"),
		DBClusterIdentifier: c.Get("dbClusterIdentifier"),
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	managers, err := strconv.Atoi(orDefault(c.Get("swarmManagers"), "1"))
	if err != nil || (managers != 1 && managers != 3) {
		fail("bookstore:swarmManagers must be 1 (a manager and two workers) or 3 (three managers), got %q", c.Get("swarmManagers"))
	}
	cfg.Managers = managers
	cfg.DBMinACU, err = number(c.Get("dbMinAcu"), 0.5)
	if err != nil {
		fail("bookstore:dbMinAcu: %v", err)
	}
	cfg.DBMaxACU, err = number(c.Get("dbMaxAcu"), 2)
	if err != nil {
		fail("bookstore:dbMaxAcu: %v", err)
	}
	if cfg.ProxyCidr == "" {
		cfg.ProxyCidr = config.ProxySubnet
	}
	config.ValidateProxyCidr(cfg.ProxyCidr, fail)
	if cfg.SSHCidr != "" {
		if _, n, err := net.ParseCIDR(cfg.SSHCidr); err != nil || n.String() == "0.0.0.0/0" {
			fail("bookstore:sshCidr must be a CIDR narrower than the whole internet, got %q", cfg.SSHCidr)
		}
	}
	if cfg.AMI != "" && !strings.HasPrefix(cfg.AMI, "ami-") {
		fail("bookstore:ami must be an AMI id (ami-...), got %q", cfg.AMI)
	}
	if cfg.Registry != "" && !registryPattern.MatchString(cfg.Registry) {
		fail("bookstore:registry must be HOST[/PREFIX] (the image is REGISTRY/bookstore:TAG), got %q", cfg.Registry)
	}
	if !tagPattern.MatchString(cfg.ImageTag) {
		fail("bookstore:imageTag must be the tag of the bookstore image to run (e.g. v0.1.0), got %q", cfg.ImageTag)
	}
	if cfg.GatewayImage != "" && !imagePattern.MatchString(cfg.GatewayImage) {
		fail("bookstore:gatewayImage must be an image reference, got %q", cfg.GatewayImage)
	}
	if !emailPattern.MatchString(cfg.AdminEmail) {
		fail("bookstore:adminEmail must be the e-mail of the store's first admin, got %q", cfg.AdminEmail)
	}
	if cfg.DatabaseStack != "" && !stackPattern.MatchString(cfg.DatabaseStack) {
		fail("bookstore:databaseStack must be a fully qualified stack (org/bookstore/objective2), got %q", cfg.DatabaseStack)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration of stack %s:\n  %s", ctx.Stack(), strings.Join(errs, "\n  "))
	}
	if _, ok := ctx.GetConfig(config.Namespace + ":adminPassword"); ok {
		cfg.AdminPassword = c.RequireSecret("adminPassword")
		cfg.HasAdminPassword = true
	}
	return cfg, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func number(v string, def float64) (float64, error) {
	if v == "" {
		return def, nil
	}
	return strconv.ParseFloat(v, 64)
}
