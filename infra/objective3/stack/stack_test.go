package stack_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/objective3/stack"
)

func variables() stack.Variables {
	return stack.Variables{
		Registry:           "123456789012.dkr.ecr.us-east-1.amazonaws.com/objective3",
		Version:            "v0.1.0",
		EFSDNS:             "fs-0123456789abcdef0.efs.us-east-1.amazonaws.com",
		AdminEmail:         "admin@example.org",
		GatewayConfVersion: "0123456789ab",
	}
}

// stackDir is a copy of the stack's directory: the stack file (maybe
// edited) and gateway.conf, the committed one when it exists (the gateway
// renderer writes it), else a stand-in, since only its presence matters here.
func stackDir(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	conf, err := os.ReadFile(stack.GatewayConfName)
	if os.IsNotExist(err) {
		conf, err = []byte("# stand-in for the rendered gateway configuration\n"), nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stack.GatewayConfName), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stack.FileName), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStackFileLoadsAndKeepsTheRules(t *testing.T) {
	dir := stackDir(t, stack.File())
	if err := stack.Check(context.Background(), dir, variables().Env()); err != nil {
		t.Fatalf("the committed stack file breaks the rules:\n%v", err)
	}
	p, err := stack.Load(context.Background(), stack.File(), dir, variables().Env())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range stack.AppServices {
		// The DSNs name /run/secrets/rds_ca: every app service must mount it.
		mounted := false
		for _, ref := range p.Services[name].Secrets {
			mounted = mounted || (ref.Source == "rds_ca" && (ref.Target == "" || ref.Target == "rds_ca" || ref.Target == "/run/secrets/rds_ca"))
		}
		if !mounted {
			t.Errorf("%s does not mount the rds_ca secret its DSN verifies the database with", name)
		}
		if got, want := p.Services[name].Image, "123456789012.dkr.ecr.us-east-1.amazonaws.com/objective3/bookstore:v0.1.0"; got != want {
			t.Errorf("%s: image %q, want %q", name, got, want)
		}
	}
	if got := p.Services[stack.Gateway].Image; got != "nginx:1.27-alpine" {
		t.Errorf("gateway image defaults to nginx:1.27-alpine, got %q", got)
	}
	if o := p.Volumes["shared"].DriverOpts["o"]; !strings.HasPrefix(o, "addr=fs-0123456789abcdef0.efs.us-east-1.amazonaws.com,nfsvers=4.1,") {
		t.Errorf("the NFS volume must mount the EFS DNS name with NFS 4.1, got %q", o)
	}
	if name := p.Configs["gateway_conf"].Name; name != "bookstore_gateway_0123456789ab" {
		t.Errorf("the gateway config's name must change with its content, got %q", name)
	}
	auth := p.Services["auth"]
	if v := auth.Environment["BOOKSTORE_ADMIN_EMAIL"]; v == nil || *v != "admin@example.org" {
		t.Errorf("auth's admin e-mail comes from ADMIN_EMAIL, got %v", v)
	}
	for _, ref := range auth.Secrets {
		if ref.UID != "65532" || ref.Mode == nil || *ref.Mode != 0o400 {
			t.Errorf("secret %s must be 0400 for the image's user 65532, got uid %q mode %v", ref.Source, ref.UID, ref.Mode)
		}
	}
}

// Each service mounts its own service key and the public keys of the two
// services that call it, never another service's key, and the shared
// service token is gone.
func TestEachServiceHasItsOwnIdentity(t *testing.T) {
	dir := stackDir(t, stack.File())
	p, err := stack.Load(context.Background(), stack.File(), dir, variables().Env())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range stack.AppServices {
		svc := p.Services[name]
		mounted := map[string]bool{}
		for _, ref := range svc.Secrets {
			mounted[ref.Source] = true
		}
		env := func(k string) string {
			if v := svc.Environment[k]; v != nil {
				return *v
			}
			return ""
		}
		if !mounted[name+"_service_key"] || env("BOOKSTORE_SERVICE_PRIVATE_KEY_FILE") != "/run/secrets/"+name+"_service_key" {
			t.Errorf("%s does not read its own service key", name)
		}
		for _, other := range stack.AppServices {
			if other == name {
				continue
			}
			if mounted[other+"_service_key"] {
				t.Errorf("%s mounts the %s service's private key", name, other)
			}
			v := "BOOKSTORE_" + strings.ToUpper(other) + "_SERVICE_PUBLIC_KEY_FILE"
			if !mounted[other+"_service_public_key"] || env(v) != "/run/secrets/"+other+"_service_public_key" {
				t.Errorf("%s does not verify the %s service with its public key (%s)", name, other, v)
			}
		}
		if mounted["service_token"] || env("BOOKSTORE_SERVICE_TOKEN_FILE") != "" {
			t.Errorf("%s still uses the shared service token", name)
		}
	}
}

func TestStackFileNeedsItsVariables(t *testing.T) {
	dir := stackDir(t, stack.File())
	for _, name := range []string{"REGISTRY", "VERSION", "EFS_DNS", "ADMIN_EMAIL", "GATEWAY_CONF_VERSION"} {
		env := variables().Env()
		delete(env, name)
		_, err := stack.Load(context.Background(), stack.File(), dir, env)
		if err == nil || !strings.Contains(err.Error(), "set "+name) {
			t.Errorf("without %s the stack must not load, got %v", name, err)
		}
	}
}

// Each edit breaks one rule; the validator must name it, so the check can fail.
func TestValidatorRejectsBrokenStacks(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"readiness healthcheck", `"healthcheck", "--path", "/healthz"]`, `"healthcheck"]`, "service auth: healthcheck must be liveness"},
		{"dash in a required variable's message", "first admin's email address}", "first admin's e-mail}", "docker stack deploy reads the text after the '-'"},
		{"undefined secret", "  admin_password:\n    external: true\n", "", "undefined secret admin_password"},
		{"secret in the file", "  catalog_service_key:\n    external: true\n", "  catalog_service_key:\n    file: ./key.pem\n", "secret catalog_service_key must be external"},
		{"credential in the environment", "      BOOKSTORE_ADMIN_PASSWORD_FILE: /run/secrets/admin_password\n", "      BOOKSTORE_ADMIN_PASSWORD: hunter2\n", "BOOKSTORE_ADMIN_PASSWORD looks like a credential"},
		{"secret file not mounted", "      BOOKSTORE_DB_DSN_FILE: /run/secrets/purchase_db_dsn\n", "      BOOKSTORE_DB_DSN_FILE: /run/secrets/auth_db_dsn\n", "service purchase: BOOKSTORE_DB_DSN_FILE reads /run/secrets/auth_db_dsn, but no secret is mounted there"},
		{"no healthcheck", "    healthcheck: *app-healthcheck\n    stop_grace_period: 30s\n    logging: *logging\n    deploy:\n      replicas: 2\n      placement: *placement\n      update_config: *update\n      rollback_config: *rollback\n      restart_policy: *restart\n      resources: *app-resources\n\n  catalog:", "    stop_grace_period: 30s\n    logging: *logging\n    deploy:\n      replicas: 2\n      placement: *placement\n      update_config: *update\n      rollback_config: *rollback\n      restart_policy: *restart\n      resources: *app-resources\n\n  catalog:", "service auth: needs a healthcheck"},
		{"stop-first updates", "  order: start-first\n  failure_action: rollback\n", "  order: stop-first\n  failure_action: rollback\n", "update_config must be parallelism 1, order start-first"},
		{"no rollback on failure", "  failure_action: rollback\n", "  failure_action: pause\n", "update_config must be parallelism 1"},
		{"no limits", "x-app-resources: &app-resources\n  limits:\n    cpus: \"0.50\"\n    memory: 256M\n", "x-app-resources: &app-resources\n", "needs cpus and memory limits"},
		{"no spread", "x-placement: &placement\n  preferences:\n    - spread: node.id\n", "x-placement: &placement\n  constraints: []\n", "replicas must be spread across nodes"},
		{"clear-text overlay", "      encrypted: \"true\"\n", "      encrypted: \"false\"\n", "network backend must be an overlay with driver_opts encrypted"},
		{"another published port", "    command: [\"purchase\"]\n", "    command: [\"purchase\"]\n    ports:\n      - \"8080:8080\"\n", "service purchase: publishes a port"},
		{"uploads off the shared volume", "        source: shared\n        target: /srv/shared\n      - type: tmpfs\n", "        source: shared\n        target: /srv/elsewhere\n      - type: tmpfs\n", "BOOKSTORE_UPLOADS_DIR /srv/shared/uploads must be on a writable NFS volume"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if strings.Count(stack.File(), c.old) != 1 {
				t.Fatalf("the edit's anchor text occurs %d times in the stack file", strings.Count(stack.File(), c.old))
			}
			dir := stackDir(t, strings.Replace(stack.File(), c.old, c.new, 1))
			err := stack.Check(context.Background(), dir, variables().Env())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("want an error containing %q, got:\n%v", c.want, err)
			}
		})
	}
}

func TestValidatorRejectsOneReplicaAndAMissingGatewayConf(t *testing.T) {
	// The catalog's own replica count, not the shared anchors.
	edited := stack.File()
	i := strings.Index(edited, "  catalog:\n")
	j := i + strings.Index(edited[i:], "      replicas: 2\n")
	edited = edited[:j] + "      replicas: 1\n" + edited[j+len("      replicas: 2\n"):]
	err := stack.Check(context.Background(), stackDir(t, edited), variables().Env())
	if err == nil || !strings.Contains(err.Error(), "service catalog: needs at least 2 replicas") {
		t.Errorf("one catalog replica must be refused, got %v", err)
	}

	dir := stackDir(t, stack.File())
	if err := os.Remove(filepath.Join(dir, stack.GatewayConfName)); err != nil {
		t.Fatal(err)
	}
	if err := stack.Check(context.Background(), dir, variables().Env()); err == nil || !strings.Contains(err.Error(), "config gateway_conf") {
		t.Errorf("a missing gateway.conf must be refused (docker stack deploy would fail), got %v", err)
	}
}

// What the manager receives is the same stack, only without comments.
func TestShippedStackIsTheSameStack(t *testing.T) {
	shipped := stack.Shipped()
	if strings.Contains(shipped, "\n# ") || len(shipped) > 8192 {
		t.Fatalf("the shipped stack keeps comments or exceeds an advanced SSM parameter (%d bytes)", len(shipped))
	}
	dir := stackDir(t, shipped)
	if err := stack.Check(context.Background(), dir, variables().Env()); err != nil {
		t.Fatal(err)
	}
	a, err := stack.Load(context.Background(), stack.File(), dir, variables().Env())
	if err != nil {
		t.Fatal(err)
	}
	b, err := stack.Load(context.Background(), shipped, dir, variables().Env())
	if err != nil {
		t.Fatal(err)
	}
	ya, _ := a.MarshalYAML()
	yb, _ := b.MarshalYAML()
	if string(ya) != string(yb) {
		t.Error("dropping comments changed the stack")
	}
	if !strings.Contains(stack.GatewayConf(), "location = /healthz") {
		t.Error("the gateway configuration must answer the healthcheck's /healthz itself")
	}
}
