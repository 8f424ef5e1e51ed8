package config_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
)

type noMocks struct{}

func (noMocks) NewResource(a pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return a.Name, a.Inputs, nil
}
func (noMocks) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

// load runs config.Load in a mock Pulumi context of the given stack.
func load(t *testing.T, stack string, cfg map[string]string) (*config.Config, error) {
	t.Helper()
	full := map[string]string{
		"bookstore:duckdnsDomain": "shop",
		"bookstore:appBinaryUrl":  "https://example.org/bookstore",
		"bookstore:dbPassword":    "pw",
		"bookstore:duckdnsToken":  "tok",
		"bookstore:adminPassword": "admin-pw",
	}
	for k, v := range cfg {
		if v == "" {
			delete(full, k)
		} else {
			full[k] = v
		}
	}
	ctx, err := pulumi.NewContext(context.Background(), pulumi.RunInfo{
		Project: "bookstore", Stack: stack, Config: full, Mocks: noMocks{},
		ConfigSecretKeys: []string{"bookstore:dbPassword", "bookstore:duckdnsToken", "bookstore:adminPassword"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	var got *config.Config
	var loadErr error
	if err := pulumi.RunWithContext(ctx, func(ctx *pulumi.Context) error {
		got, loadErr = config.Load(ctx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got, loadErr
}

func TestObjectiveFromConfigElseStackName(t *testing.T) {
	cases := []struct {
		stack, configured string
		want              int
	}{
		{"objective1", "", 1},
		{"dev-objective3", "", 3},
		{"objective1", "2", 2},
		{"staging", "1", 1},
	}
	for _, c := range cases {
		cfg, err := load(t, c.stack, map[string]string{"bookstore:objective": c.configured})
		if err != nil || cfg.Objective != c.want {
			t.Errorf("stack %s, bookstore:objective=%q: got %v, %v; want %d", c.stack, c.configured, cfg, err, c.want)
		}
	}
	if _, err := load(t, "staging", nil); err == nil || !strings.Contains(err.Error(), "bookstore:objective") {
		t.Errorf("an unnamed stack without bookstore:objective must say what to set, got %v", err)
	}
	if _, err := load(t, "objective1", map[string]string{"bookstore:objective": "4"}); err == nil {
		t.Error("objective 4 must be refused")
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := load(t, "objective1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DNS.Provider != "duckdns" || cfg.DNS.Apex() != "shop.duckdns.org" || cfg.ACME.Challenge != "http" || cfg.ACME.Staging ||
		cfg.App.Delivery != "binary" || cfg.App.Port != 8080 || cfg.App.InstanceType != "t3.small" || cfg.Proxy.InstanceType != "t3.micro" || cfg.SSHCidr != "" {
		t.Errorf("unexpected defaults: %+v", cfg)
	}
}

func TestRejectsBadConfiguration(t *testing.T) {
	bad := map[string]map[string]string{
		"world ssh":          {"bookstore:sshCidr": "0.0.0.0/0"},
		"bad cidr":           {"bookstore:sshCidr": "10.0.0.1"},
		"no duckdns domain":  {"bookstore:duckdnsDomain": ""},
		"route53 no zone":    {"bookstore:dnsProvider": "route53"},
		"dns01 with route53": {"bookstore:dnsProvider": "route53", "bookstore:route53ZoneId": "Z1", "bookstore:route53Domain": "a.example.com", "bookstore:acmeChallenge": "dns"},
		"no binary url":      {"bookstore:appBinaryUrl": ""},
		"container no image": {"bookstore:appDelivery": "container"},
		"bad port":           {"bookstore:appPort": "http"},
		"bad staging":        {"bookstore:acmeStaging": "maybe"},
		"bad ami":            {"bookstore:ami": "ubuntu"},
		"bad env":            {"bookstore:appEnv": "[1,2]"},
		"no admin password":  {"bookstore:adminPassword": ""},
	}
	for name, cfg := range bad {
		if _, err := load(t, "objective1", cfg); err == nil {
			t.Errorf("%s: want a configuration error", name)
		}
	}
}

// Objectives 2 and 3 believe the proxy range's X-Forwarded-For, so it must
// name a proxy, not a slice of the internet.
func TestProxyCidrMustBeNarrow(t *testing.T) {
	for cidr, ok := range map[string]bool{
		"":                true, // unset: nobody's headers are believed
		"203.0.113.10/32": true,
		"10.1.0.0/16":     true,
		"2001:db8::/64":   true,
		"0.0.0.0/0":       false,
		"0.0.0.0/1":       false,
		"10.0.0.0/8":      false,
		"::/0":            false,
		"everyone":        false,
		"203.0.113.10":    false, // an address without its prefix length
	} {
		var failed []string
		config.ValidateProxyCidr(cidr, func(format string, args ...any) { failed = append(failed, fmt.Sprintf(format, args...)) })
		if ok != (len(failed) == 0) {
			t.Errorf("%q: accepted %v (%v), want %v", cidr, len(failed) == 0, failed, ok)
		}
	}
}
