// Package config reads the stack's configuration once into a typed struct, so
// the rest of the program never looks up a key by name and every value is
// validated before a resource is declared.
package config

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Namespace is the project's configuration namespace (bookstore:KEY).
const Namespace = "bookstore"

// Config is every setting of a bookstore stack.
type Config struct {
	Project   string
	Stack     string
	Objective int

	DNS   DNS
	ACME  ACME
	App   App
	Proxy Proxy

	// AMI pins the image of both VMs; empty looks up the current Ubuntu
	// 24.04 LTS image (later upstream images never replace a running VM).
	AMI string
	// SSHCidr opens port 22 from this CIDR; empty (the default) keeps SSH
	// closed, Session Manager is the way in.
	SSHCidr string

	// Objective2Stack and Objective3Stack are fully qualified stack names
	// (org/bookstore/objective2) whose backends the proxy fronts.
	Objective2Stack string
	Objective3Stack string

	Secrets Secrets
}

// DNS says who owns the domain's records.
type DNS struct {
	Provider      string // "duckdns" (default) or "route53"
	DuckDNSDomain string // "shop" for shop.duckdns.org
	Route53Zone   string // hosted zone id, route53 only
	Route53Domain string // apex inside that zone, route53 only
}

// Apex is the domain the objectives are subdomains of.
func (d DNS) Apex() string {
	if d.Provider == "route53" {
		return d.Route53Domain
	}
	return d.DuckDNSDomain + ".duckdns.org"
}

// ACME configures certbot.
type ACME struct {
	Email     string
	Staging   bool
	Challenge string // "http" (default) or "dns" (DuckDNS only)
}

// App is the bookstore on its VM.
type App struct {
	Delivery     string // "binary" (default) or "container"
	BinaryURL    string
	BinarySHA256 string
	Image        string
	Port         int
	InstanceType string
	// Env is extra non-secret BOOKSTORE_* settings (e.g. BOOKSTORE_SEED_DEMO).
	Env map[string]string
}

// Proxy is the NGINX VM.
type Proxy struct {
	InstanceType string
}

// Secrets are Pulumi secret config values; they only ever travel as secret
// outputs into SSM SecureString parameters.
type Secrets struct {
	DBPassword    pulumi.StringOutput
	DuckDNSToken  pulumi.StringOutput // DuckDNS only
	AdminPassword pulumi.StringOutput // required: MySQL needs a first admin
}

var (
	stackObjective = regexp.MustCompile(`objective([1-9])$`)
	labelPattern   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	domainPattern  = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$`)
)

// Load reads and validates the configuration of the running stack.
func Load(ctx *pulumi.Context) (*Config, error) {
	c := pconfig.New(ctx, Namespace)
	cfg := &Config{Project: ctx.Project(), Stack: ctx.Stack()}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	var err error
	if cfg.Objective, err = objective(c.Get("objective"), ctx.Stack()); err != nil {
		return nil, err
	}
	cfg.DNS = DNS{
		Provider:      orDefault(c.Get("dnsProvider"), "duckdns"),
		DuckDNSDomain: c.Get("duckdnsDomain"),
		Route53Zone:   c.Get("route53ZoneId"),
		Route53Domain: c.Get("route53Domain"),
	}
	staging, err := boolean(c.Get("acmeStaging"), false)
	if err != nil {
		fail("bookstore:acmeStaging: %v", err)
	}
	cfg.ACME = ACME{Email: c.Get("acmeEmail"), Staging: staging, Challenge: orDefault(c.Get("acmeChallenge"), "http")}
	port, err := integer(c.Get("appPort"), 8080)
	if err != nil || port < 1 || port > 65535 {
		fail("bookstore:appPort must be a port number, got %q", c.Get("appPort"))
	}
	cfg.App = App{
		Delivery:     orDefault(c.Get("appDelivery"), "binary"),
		BinaryURL:    c.Get("appBinaryUrl"),
		BinarySHA256: c.Get("appBinarySha256"),
		Image:        c.Get("appImage"),
		Port:         port,
		InstanceType: orDefault(c.Get("appInstanceType"), "t3.small"),
		Env:          map[string]string{},
	}
	if raw := c.Get("appEnv"); raw != "" {
		if err := c.TryObject("appEnv", &cfg.App.Env); err != nil {
			fail("bookstore:appEnv must be a map of BOOKSTORE_* names to strings: %v", err)
		}
	}
	cfg.Proxy = Proxy{InstanceType: orDefault(c.Get("proxyInstanceType"), "t3.micro")}
	cfg.AMI = c.Get("ami")
	cfg.SSHCidr = c.Get("sshCidr")
	cfg.Objective2Stack = c.Get("objective2Stack")
	cfg.Objective3Stack = c.Get("objective3Stack")

	if cfg.Objective == 1 {
		cfg.validateObjective1(fail)
		// On MySQL the app refuses to start without an admin password, and
		// systemd would restart it forever behind a 502: refuse the plan.
		if _, ok := ctx.GetConfig(Namespace + ":adminPassword"); !ok {
			fail("bookstore:adminPassword is required (pulumi config set --secret bookstore:adminPassword): the app does not start on MySQL without its first admin's password")
		}
		if len(errs) == 0 {
			cfg.Secrets.DBPassword = c.RequireSecret("dbPassword")
			if cfg.DNS.Provider == "duckdns" {
				cfg.Secrets.DuckDNSToken = c.RequireSecret("duckdnsToken")
			}
			cfg.Secrets.AdminPassword = c.RequireSecret("adminPassword")
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration of stack %s:\n  %s", ctx.Stack(), strings.Join(errs, "\n  "))
	}
	return cfg, nil
}

func (cfg *Config) validateObjective1(fail func(string, ...any)) {
	switch cfg.DNS.Provider {
	case "duckdns":
		if !labelPattern.MatchString(cfg.DNS.DuckDNSDomain) {
			fail("bookstore:duckdnsDomain must be your DuckDNS subdomain (\"shop\" for shop.duckdns.org), got %q", cfg.DNS.DuckDNSDomain)
		}
	case "route53":
		if cfg.DNS.Route53Zone == "" || !domainPattern.MatchString(cfg.DNS.Route53Domain) {
			fail("bookstore:dnsProvider route53 needs bookstore:route53ZoneId and bookstore:route53Domain")
		}
	default:
		fail("bookstore:dnsProvider must be duckdns or route53, got %q", cfg.DNS.Provider)
	}
	switch cfg.ACME.Challenge {
	case "http":
	case "dns":
		if cfg.DNS.Provider != "duckdns" {
			fail("bookstore:acmeChallenge dns is implemented for DuckDNS only; use http with route53")
		}
	default:
		fail("bookstore:acmeChallenge must be http or dns, got %q", cfg.ACME.Challenge)
	}
	ValidateApp(cfg, fail)
	if cfg.SSHCidr != "" {
		if _, n, err := net.ParseCIDR(cfg.SSHCidr); err != nil || n.String() == "0.0.0.0/0" {
			fail("bookstore:sshCidr must be a CIDR narrower than the whole internet, got %q", cfg.SSHCidr)
		}
	}
}

// ValidateApp checks how the app release is delivered and the AMI pin, for
// every objective that installs the app on a VM.
func ValidateApp(cfg *Config, fail func(string, ...any)) {
	switch cfg.App.Delivery {
	case "binary":
		if cfg.App.BinaryURL == "" {
			fail("bookstore:appBinaryUrl is required with appDelivery binary")
		}
	case "container":
		if cfg.App.Image == "" {
			fail("bookstore:appImage is required with appDelivery container")
		}
	default:
		fail("bookstore:appDelivery must be binary or container, got %q", cfg.App.Delivery)
	}
	if cfg.AMI != "" && !strings.HasPrefix(cfg.AMI, "ami-") {
		fail("bookstore:ami must be an AMI id (ami-...), got %q", cfg.AMI)
	}
}

// ProxySubnet is objective 1's proxy subnet, alone in it: objectives 2 and
// 3 admit it on their internal load balancers (it arrives over the VPC
// peering objective 1 creates) unless bookstore:proxyCidr says otherwise.
const ProxySubnet = "10.0.2.0/24"

// ValidateProxyCidr checks bookstore:proxyCidr of objectives 2 and 3: only
// that range reaches their load balancer, and their apps (objective 2) or
// gateway (objective 3) believe its X-Forwarded-For. It is the objective 1
// proxy's address, so a range wider than a /16 is a mistake that would let
// anyone pick the address their login attempts count against.
func ValidateProxyCidr(cidr string, fail func(string, ...any)) {
	if cidr == "" {
		return
	}
	_, n, err := net.ParseCIDR(cidr)
	if err == nil {
		ones, bits := n.Mask.Size()
		if bits == 32 && ones >= 16 || bits == 128 && ones >= 48 {
			return
		}
	}
	fail("bookstore:proxyCidr must be the proxy's address range, /16 or narrower (the objective 1 proxy's subnet %s), got %q", ProxySubnet, cidr)
}

// objective comes from bookstore:objective, else from a stack name ending in
// objectiveN.
func objective(configured, stack string) (int, error) {
	if configured != "" {
		n, err := strconv.Atoi(configured)
		if err != nil || n < 1 || n > 3 {
			return 0, fmt.Errorf("bookstore:objective must be 1, 2 or 3, got %q", configured)
		}
		return n, nil
	}
	if m := stackObjective.FindStringSubmatch(stack); m != nil {
		if n, _ := strconv.Atoi(m[1]); n >= 1 && n <= 3 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("stack %q: set bookstore:objective (1, 2 or 3) or name the stack objective1, objective2 or objective3", stack)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func boolean(v string, def bool) (bool, error) {
	if v == "" {
		return def, nil
	}
	return strconv.ParseBool(v)
}

func integer(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}
