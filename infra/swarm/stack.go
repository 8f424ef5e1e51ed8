package swarm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tet-bookstore/bookstore/infra/objective3/stack"
)

// StackName is what `docker stack deploy` calls the deployment.
const StackName = "bookstore"

// Registry stands in for the ECR repository prefix: the images are loaded
// onto every node under this name, and deployed with --resolve-image never.
const Registry = "rehearsal.local"

// Deployment is what Render needs: the values Pulumi renders into the
// manager's deploy helper, and where the rehearsal's shared directory is.
type Deployment struct {
	Version      string // image tag of Registry/bookstore
	GatewayImage string
	AdminEmail   string
	// SharedDir stands in for EFS: one host directory, bind-mounted by
	// every node's volume (all nodes share this machine's file system).
	SharedDir string
	// Environ's BOOKSTORE_* settings the stack does not set itself are
	// added to every service (the demo seed, log level ...).
	Environ []string
}

// Env is the deploy helper's environment, as Pulumi would set it.
func (d Deployment) Env() map[string]string {
	sum := sha256.Sum256([]byte(stack.GatewayConf()))
	return stack.Variables{
		Registry: Registry, Version: d.Version, EFSDNS: "efs.rehearsal.invalid", AdminEmail: d.AdminEmail,
		GatewayConfVersion: hex.EncodeToString(sum[:6]), GatewayImage: d.GatewayImage,
	}.Env()
}

// substitution is one rehearsal-only change to the committed stack file,
// for what this machine lacks; each must apply exactly count times, so an
// edit of the stack file that moves its target fails loudly.
type substitution struct {
	why     string
	re      *regexp.Regexp
	replace string
	count   int
}

var substitutions = []substitution{
	{"no IPVS here: the routing mesh does not answer; the gateway publishes on each node it runs on",
		regexp.MustCompile(`(?m)^(        mode: )ingress$`), "${1}host", 1},
	{"no IPVS here: no service VIPs; Docker's DNS returns the tasks' addresses and the gateway re-resolves them",
		regexp.MustCompile(`(?m)^(    deploy:\n)`), "${1}      endpoint_mode: dnsrr\n", 4},
	{"this kernel cannot install the IPsec (ESP) states of an encrypted overlay: its traffic between nodes is dropped",
		// Docker encrypts when the option is present at all, whatever its value.
		regexp.MustCompile(`(?m)^    driver_opts:\n      encrypted: "true"\n`), "", 1},
	{"no EFS here: every node bind-mounts one directory of this machine",
		regexp.MustCompile(`(?m)^      type: nfs\n      o: addr=.*\n      device: ":/"$`), "      type: none\n      o: bind\n      device: @SHARED@", 1},
}

// Render is the committed stack file with Rehearsal's substitutions and the
// extra settings; the Pulumi values stay ${VARIABLES} for `docker stack
// deploy` to interpolate from Env.
func Render(d Deployment) (string, error) {
	out := stack.File()
	for _, s := range substitutions {
		if n := len(s.re.FindAllStringIndex(out, -1)); n != s.count {
			return "", fmt.Errorf("swarm: rehearsal substitution (%s) matches %d times in the stack file, want %d", s.why, n, s.count)
		}
		out = s.re.ReplaceAllString(out, s.replace)
	}
	out = strings.ReplaceAll(out, "@SHARED@", strconv.Quote(d.SharedDir))
	const anchor = "x-app-env: &app-env\n"
	if !strings.Contains(out, anchor) {
		return "", fmt.Errorf("swarm: the stack file has no %q to add settings to", strings.TrimSpace(anchor))
	}
	var extra strings.Builder
	// dnsrr: the gateway keeps a stopped task's address for its resolver's
	// valid=10s, so a task must keep serving that long after it leaves
	// Docker's DNS (VIP mode needs no such margin; the default is 5s).
	environ := append([]string{"BOOKSTORE_DRAIN_DELAY=15s"}, d.Environ...)
	for _, kv := range passThrough(out, environ) {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&extra, "  %s: %s\n", k, strconv.Quote(v))
	}
	return strings.Replace(out, anchor, anchor+extra.String(), 1), nil
}

// passThrough is environ's BOOKSTORE_* settings that the stack file does
// not name, without credentials (they are Docker secrets) and without the
// ones the rehearsal decides.
func passThrough(file string, environ []string) []string {
	var out []string
	seen := map[string]bool{}
	for i := len(environ) - 1; i >= 0; i-- {
		k, v, _ := strings.Cut(environ[i], "=")
		if !strings.HasPrefix(k, "BOOKSTORE_") || v == "" || seen[k] || strings.Contains(file, k+":") ||
			regexp.MustCompile(`PASSWORD|SECRET|TOKEN|KEY|_DSN|_FILE$`).MatchString(k) || k == "BOOKSTORE_TEST_MYSQL_DSN" {
			continue
		}
		seen[k] = true
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// Deploy writes the rendered stack and gateway.conf into dir and runs
// `docker stack deploy` on the manager with Env.
func (c *Cluster) Deploy(ctx context.Context, dir string, d Deployment) error {
	content, err := Render(d)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, stack.FileName), []byte(content), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, stack.GatewayConfName), []byte(stack.GatewayConf()), 0o644); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "docker", "stack", "deploy", "--resolve-image", "never", "--prune", "-c", stack.FileName, StackName)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+c.Manager().Host)
	for k, v := range d.Env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("swarm: docker stack deploy: %w: %s", err, out)
	}
	return nil
}

// CreateSecret creates a Docker secret on the manager from value (stdin,
// so it is never in a command line).
func (c *Cluster) CreateSecret(ctx context.Context, name string, value []byte) error {
	cmd := exec.CommandContext(ctx, "docker", "secret", "create", name, "-")
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+c.Manager().Host)
	cmd.Stdin = strings.NewReader(string(value))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("swarm: docker secret create %s: %w: %s", name, err, out)
	}
	return nil
}
