// Package stack holds objective 3's Docker Swarm stack file and the rules it
// must keep, checked with compose-go the way `docker stack deploy` reads it:
// every service health-checked, updated one task at a time start-first with
// rollback, limited in CPU and memory; every secret external and defined;
// the app services twice and spread; an encrypted overlay; one published port.
package stack

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// FileName is the stack file's name next to gateway.conf.
const FileName = "docker-stack.yml"

// GatewayConfName is the gateway's NGINX configuration, rendered by the
// gateway renderer and shipped next to the stack file.
const GatewayConfName = "gateway.conf"

//go:embed docker-stack.yml
var file string

//go:embed gateway.conf
var gatewayConf string

// File is the stack file as committed.
func File() string { return file }

// Shipped is the stack file as the manager receives it: without its
// full-line comments, which keeps it within one SSM parameter.
func Shipped() string {
	var out []string
	for _, line := range strings.Split(file, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// GatewayConf is the gateway's NGINX configuration (an http-context file:
// maps and the server), installed as /etc/nginx/conf.d/default.conf.
func GatewayConf() string { return gatewayConf }

// Gateway is the one service that publishes a port; AppServices are the
// bookstore's microservices, one command each of the same image.
const Gateway = "gateway"

// AppServices run `bookstore <name>`.
var AppServices = []string{"auth", "catalog", "purchase"}

// Variables are what the manager sets when it deploys the stack.
type Variables struct {
	Registry           string // e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/objective3
	Version            string // image tag
	EFSDNS             string
	AdminEmail         string
	GatewayConfVersion string // digest of gateway.conf
	GatewayImage       string // optional
}

// Env is the variables as the environment of `docker stack deploy`.
func (v Variables) Env() map[string]string {
	env := map[string]string{
		"REGISTRY":             v.Registry,
		"VERSION":              v.Version,
		"EFS_DNS":              v.EFSDNS,
		"ADMIN_EMAIL":          v.AdminEmail,
		"GATEWAY_CONF_VERSION": v.GatewayConfVersion,
	}
	if v.GatewayImage != "" {
		env["GATEWAY_IMAGE"] = v.GatewayImage
	}
	return env
}

// Load reads a stack file that lives in dir (configs' files are relative
// to it) with the variables interpolated.
func Load(ctx context.Context, content, dir string, env map[string]string) (*types.Project, error) {
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, FileName), Content: []byte(content)}},
		Environment: env,
	}
	p, err := loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName("bookstore", true)
	})
	if err != nil {
		return nil, fmt.Errorf("stack file: %w", err)
	}
	return p, nil
}

// Check loads the stack file in dir and applies Validate.
func Check(ctx context.Context, dir string, env map[string]string) error {
	content, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return err
	}
	if err := checkInterpolation(string(content)); err != nil {
		return err
	}
	p, err := Load(ctx, string(content), dir, env)
	if err != nil {
		return err
	}
	return Validate(p)
}

// requiredWithDash is ${VAR:?message} with a '-' in the message: the docker
// CLI (20.10 to 28) splits on the first '-' before it looks for ":?", so
// `docker stack deploy` silently substitutes the text after the dash
// (compose-go reads it right, hence this separate check).
var requiredWithDash = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*-[^}]*\}`)

func checkInterpolation(content string) error {
	if m := requiredWithDash.FindString(content); m != "" {
		return fmt.Errorf("%s: docker stack deploy reads the text after the '-' as a default; keep dashes out of the message", m)
	}
	return nil
}

// Validate returns every broken rule, one per line, or nil.
func Validate(p *types.Project) error {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	for _, name := range append([]string{Gateway}, AppServices...) {
		if _, ok := p.Services[name]; !ok {
			fail("service %s is missing", name)
		}
	}
	names := make([]string, 0, len(p.Services))
	for name := range p.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := p.Services[name]
		serviceFail := func(format string, args ...any) { fail("service "+name+": "+format, args...) }
		checkHealthcheck(s, serviceFail)
		checkDeploy(s, serviceFail)
		checkPorts(s, serviceFail)
		checkSecrets(p, s, serviceFail)
		checkNetworks(p, s, serviceFail)
		checkSharedDirs(p, s, serviceFail)
		if slices.Contains(AppServices, name) {
			checkAppService(s, serviceFail)
		}
	}
	for name, c := range p.Configs {
		if c.File == "" {
			fail("config %s: must come from a file next to the stack file", name)
		} else if _, err := os.Stat(c.File); err != nil {
			fail("config %s: %v", name, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(errs, "\n"))
}

func checkHealthcheck(s types.ServiceConfig, fail func(string, ...any)) {
	h := s.HealthCheck
	if h == nil || h.Disable || len(h.Test) < 2 || (h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL") {
		fail("needs a healthcheck command (rolling updates and the routing mesh wait for healthy tasks)")
		return
	}
	if h.Interval == nil || h.Timeout == nil || h.Retries == nil {
		fail("healthcheck needs an interval, a timeout and retries")
	}
}

func checkDeploy(s types.ServiceConfig, fail func(string, ...any)) {
	d := s.Deploy
	if d == nil {
		fail("needs a deploy section")
		return
	}
	if d.Replicas == nil || *d.Replicas < 2 {
		fail("needs at least 2 replicas")
	}
	spread := d.Placement.MaxReplicas == 1
	for _, pref := range d.Placement.Preferences {
		spread = spread || pref.Spread == "node.id"
	}
	if !spread {
		fail("replicas must be spread across nodes (preferences: spread node.id, or max_replicas_per_node: 1)")
	}
	u := d.UpdateConfig
	if u == nil || u.Parallelism == nil || *u.Parallelism != 1 || u.Order != "start-first" || u.FailureAction != "rollback" || u.Monitor <= 0 {
		fail("update_config must be parallelism 1, order start-first, failure_action rollback, with a monitor period")
	}
	if r := d.RollbackConfig; r == nil || r.Parallelism == nil || *r.Parallelism < 1 {
		fail("needs a rollback_config with a parallelism")
	}
	if d.RestartPolicy == nil || d.RestartPolicy.Condition == "" {
		fail("needs a restart_policy")
	}
	lim, res := d.Resources.Limits, d.Resources.Reservations
	if lim == nil || lim.NanoCPUs <= 0 || lim.MemoryBytes <= 0 {
		fail("needs cpus and memory limits")
	}
	if res == nil || res.MemoryBytes <= 0 {
		fail("needs a memory reservation (the scheduler places tasks by it)")
	} else if lim != nil && res.MemoryBytes > lim.MemoryBytes {
		fail("reserves more memory than its limit")
	}
}

func checkPorts(s types.ServiceConfig, fail func(string, ...any)) {
	if s.Name != Gateway {
		if len(s.Ports) > 0 {
			fail("publishes a port; only the gateway may be reachable from outside the overlay")
		}
		return
	}
	if len(s.Ports) != 1 || s.Ports[0].Target != 80 || s.Ports[0].Published != "80" || s.Ports[0].Mode != "ingress" || s.Ports[0].Protocol != "tcp" {
		fail("must publish exactly port 80/tcp in ingress mode (the routing mesh), got %+v", s.Ports)
	}
}

// secretName matches setting names that hold credentials.
var secretName = regexp.MustCompile(`PASSWORD|SECRET|TOKEN|PRIVATE_KEY|_DSN`)

func checkSecrets(p *types.Project, s types.ServiceConfig, fail func(string, ...any)) {
	mounted := map[string]bool{}
	for _, ref := range s.Secrets {
		def, ok := p.Secrets[ref.Source]
		switch {
		case !ok:
			fail("uses secret %s, which is not defined", ref.Source)
		case !bool(def.External) || def.File != "" || def.Environment != "" || def.Content != "":
			fail("secret %s must be external (created on the manager from SSM), never a file or value in the stack", ref.Source)
		}
		target := ref.Target
		if target == "" {
			target = ref.Source
		}
		if !path.IsAbs(target) {
			target = "/run/secrets/" + target
		}
		mounted[target] = true
	}
	keys := make([]string, 0, len(s.Environment))
	for k := range s.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := s.Environment[k]
		if secretName.MatchString(k) && !strings.HasSuffix(k, "_FILE") {
			fail("%s looks like a credential: give it as %s_FILE from a Docker secret", k, k)
		}
		if v != nil && strings.HasPrefix(*v, "/run/secrets/") && !mounted[*v] {
			fail("%s reads %s, but no secret is mounted there", k, *v)
		}
	}
}

func checkNetworks(p *types.Project, s types.ServiceConfig, fail func(string, ...any)) {
	if len(s.Networks) == 0 {
		fail("must join the encrypted overlay network")
	}
	for name := range s.Networks {
		n := p.Networks[name]
		if n.Driver != "overlay" || n.DriverOpts["encrypted"] != "true" {
			fail("network %s must be an overlay with driver_opts encrypted: \"true\"", name)
		}
	}
}

// checkSharedDirs: a service's uploads directory must be on the NFS volume,
// or covers saved on one node would be missing on the others.
func checkSharedDirs(p *types.Project, s types.ServiceConfig, fail func(string, ...any)) {
	dir := s.Environment["BOOKSTORE_UPLOADS_DIR"]
	if dir == nil {
		return
	}
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeVolume || v.ReadOnly || !strings.HasPrefix(*dir+"/", strings.TrimSuffix(v.Target, "/")+"/") {
			continue
		}
		vol := p.Volumes[v.Source]
		if vol.DriverOpts["type"] == "nfs" && strings.Contains(vol.DriverOpts["o"], "nfsvers=4.1") {
			return
		}
	}
	fail("BOOKSTORE_UPLOADS_DIR %s must be on a writable NFS volume shared by all nodes", *dir)
}

// appLiveness is the app services' healthcheck: the binary checks itself
// (the image has no shell) on /healthz, so a database outage, which turns
// /readyz to 503, restarts no task.
var appLiveness = []string{"CMD", "/usr/local/bin/bookstore", "healthcheck", "--path", "/healthz"}

func checkAppService(s types.ServiceConfig, fail func(string, ...any)) {
	if h := s.HealthCheck; h != nil && !slices.Equal(h.Test, appLiveness) {
		fail("healthcheck must be liveness, %q, got %q", appLiveness, h.Test)
	}
	if s.Deploy != nil && (s.Deploy.Replicas == nil || *s.Deploy.Replicas != 2) {
		fail("runs 2 replicas")
	}
	if len(s.Command) != 1 || s.Command[0] != s.Name {
		fail("must run `bookstore %s`, got command %v", s.Name, s.Command)
	}
	repo, _, _ := strings.Cut(path.Base(s.Image), ":")
	if repo != "bookstore" || !strings.Contains(s.Image, "/") {
		fail("must run the bookstore image from the registry, got %q", s.Image)
	}
}
