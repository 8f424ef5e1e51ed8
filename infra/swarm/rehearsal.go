package swarm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tet-bookstore/bookstore/app/token"
	"github.com/tet-bookstore/bookstore/infra/image"
	"github.com/tet-bookstore/bookstore/infra/objective3/stack"
)

// RehearsalOptions configures Up.
type RehearsalOptions struct {
	Environ []string  // BOOKSTORE_* pass through (the admin account, the demo seed)
	Log     io.Writer // build, dockerd and mariadbd output; default io.Discard
}

// Rehearsal is objective 3 on a real three-node swarm: the stack deployed
// from the committed file, a private MariaDB on the bridge, and the entry
// balancer on loopback in front of the nodes' gateways.
type Rehearsal struct {
	Cluster  *Cluster
	DB       *MariaDB
	Balancer *Balancer
	// GatewayURL is the balancer: plain HTTP to the gateway tasks.
	GatewayURL string
	Deployment Deployment
	// AdminEmail/AdminPassword are the store's admin account.
	AdminEmail, AdminPassword string
	dir                       string
}

// AppImage is the bookstore image as the stack names it for a version.
func AppImage(version string) string { return Registry + "/bookstore:" + version }

// Up builds the image (cached layers make a rebuild quick), forms the
// swarm, loads the images on every node, creates the secrets and deploys
// the stack, and returns once every service runs all its replicas and the
// store answers /readyz through the gateway.
func Up(ctx context.Context, o RehearsalOptions) (_ *Rehearsal, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	r := &Rehearsal{}
	defer func() {
		if err != nil {
			r.Down()
		}
	}()
	if r.dir, err = os.MkdirTemp("", "bookstore-swarm-"); err != nil {
		return nil, err
	}
	// The tag is the stack's VERSION; the binary's own version stays "dev",
	// as `make image` builds it, so the build's cached layers are reused.
	version := "rehearsal-1"
	if err := image.Build(ctx, AppImage(version), "dev", o.Log); err != nil {
		return nil, err
	}
	if err := image.BaseImages(ctx, o.Log, "gateway"); err != nil {
		return nil, err
	}
	if r.Cluster, err = Start(ctx, Options{Log: o.Log}); err != nil {
		return nil, err
	}
	if err := r.Cluster.Load(ctx, AppImage(version), image.GatewayBase); err != nil {
		return nil, err
	}
	if r.DB, err = StartMariaDB(ctx, filepath.Join(r.dir, "mariadb"), r.Cluster.BridgeIP, o.Log); err != nil {
		return nil, err
	}
	r.AdminEmail = envValue(o.Environ, "BOOKSTORE_ADMIN_EMAIL", "admin@bookstore.local")
	r.AdminPassword = envValue(o.Environ, "BOOKSTORE_ADMIN_PASSWORD", "")
	if r.AdminPassword == "" {
		r.AdminPassword = randomHex(12)
	}
	shared := filepath.Join(r.dir, "shared")
	if err := os.MkdirAll(filepath.Join(shared, "uploads"), 0o755); err != nil {
		return nil, err
	}
	for _, d := range []string{shared, filepath.Join(shared, "uploads")} {
		if err := os.Chown(d, 65532, 65532); err != nil {
			return nil, err
		}
	}
	r.Deployment = Deployment{Version: version, GatewayImage: image.GatewayBase, AdminEmail: r.AdminEmail, SharedDir: shared, Environ: o.Environ}
	if err := r.createSecrets(ctx); err != nil {
		return nil, err
	}
	if err := r.Cluster.Deploy(ctx, r.dir, r.Deployment); err != nil {
		return nil, err
	}
	var gateways []string
	for _, n := range r.Cluster.Nodes {
		gateways = append(gateways, n.IP+":80")
	}
	if r.Balancer, err = StartBalancer(gateways); err != nil {
		return nil, err
	}
	r.GatewayURL = "http://" + r.Balancer.Addr + "/"
	if err := r.WaitConverged(ctx, 5*time.Minute); err != nil {
		return nil, err
	}
	return r, nil
}

// createSecrets creates every external secret the stack names, generated
// here as the deploy helper fetches them from SSM and Secrets Manager.
func (r *Rehearsal) createSecrets(ctx context.Context) error {
	keys := filepath.Join(r.dir, "keys")
	if err := os.Mkdir(keys, 0o700); err != nil {
		return err
	}
	if err := token.WriteKeyPair(keys); err != nil {
		return err
	}
	values := map[string]func() ([]byte, error){
		"csrf_secret":       func() ([]byte, error) { return []byte(randomHex(32)), nil },
		"token_public_key":  func() ([]byte, error) { return os.ReadFile(filepath.Join(keys, token.PublicKeyFile)) },
		"token_signing_key": func() ([]byte, error) { return os.ReadFile(filepath.Join(keys, token.PrivateKeyFile)) },
		"admin_password":    func() ([]byte, error) { return []byte(r.AdminPassword), nil },
		// The DSNs here use no TLS; the stack still mounts the bundle.
		"rds_ca": func() ([]byte, error) { return os.ReadFile("/etc/ssl/certs/ca-certificates.crt") },
	}
	for _, svc := range stack.AppServices {
		// Each service's own key, and its public key for the services it calls.
		if err := token.WriteServiceKeyPair(keys, svc); err != nil {
			return err
		}
		private, public := filepath.Join(keys, token.ServicePrivateKeyFile(svc)), filepath.Join(keys, token.ServicePublicKeyFile(svc))
		values[svc+"_service_key"] = func() ([]byte, error) { return os.ReadFile(private) }
		values[svc+"_service_public_key"] = func() ([]byte, error) { return os.ReadFile(public) }
		name := "bookstore_" + svc
		values[svc+"_db_dsn"] = func() ([]byte, error) {
			dsn, err := r.DB.Database(ctx, name, randomHex(12))
			return []byte(dsn), err
		}
	}
	p, err := stack.Load(ctx, stack.File(), r.dir, r.Deployment.Env())
	if err != nil {
		return err
	}
	for name := range p.Secrets {
		generate, ok := values[name]
		if !ok {
			return fmt.Errorf("swarm: the stack uses secret %s, which the rehearsal does not know how to make", name)
		}
		v, err := generate()
		if err != nil {
			return err
		}
		if err := r.Cluster.CreateSecret(ctx, name, v); err != nil {
			return err
		}
	}
	return nil
}

// WaitConverged waits until every service of the stack runs all its
// replicas and /readyz answers 200 through the gateway.
func (r *Rehearsal) WaitConverged(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last := ""
	for {
		out, err := r.Cluster.Manager().Docker(ctx, "service", "ls", "--filter", "label=com.docker.stack.namespace="+StackName, "--format", "{{.Name}} {{.Replicas}}")
		last = out
		if err == nil && converged(out) {
			if res, err := http.Get(r.GatewayURL + "readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return nil
				}
				last += "\n/readyz through the gateway: " + res.Status
			}
		}
		if time.Now().After(deadline) {
			ps, _ := r.Cluster.Manager().Docker(ctx, "stack", "ps", "--no-trunc", "--format", "{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}", StackName)
			return fmt.Errorf("swarm: the stack did not converge in %s:\n%s\n%s", limit, last, ps)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func converged(serviceLs string) bool {
	lines := strings.Split(strings.TrimSpace(serviceLs), "\n")
	if len(lines) < 1+len(stack.AppServices) {
		return false
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			return false
		}
		running, want, ok := strings.Cut(f[1], "/")
		if !ok || running != want {
			return false
		}
	}
	return true
}

// Down removes the stack and everything Up started or made.
func (r *Rehearsal) Down() error {
	var errs []error
	if r.Balancer != nil {
		errs = append(errs, r.Balancer.Close())
	}
	if r.Cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, _ = r.Cluster.Manager().Docker(ctx, "stack", "rm", StackName)
		cancel()
		errs = append(errs, r.Cluster.Stop())
	}
	if r.DB != nil {
		r.DB.Stop()
	}
	if r.dir != "" {
		errs = append(errs, os.RemoveAll(r.dir))
	}
	return errors.Join(errs...)
}

func envValue(environ []string, key, def string) string {
	v := def
	for _, kv := range environ {
		if k, val, _ := strings.Cut(kv, "="); k == key && val != "" {
			v = val
		}
	}
	return v
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Redeploy runs `docker stack deploy` again with d, as the manager's deploy
// helper does for a new release; d.Version's image must be on every node.
func (r *Rehearsal) Redeploy(ctx context.Context, d Deployment) error {
	if err := r.Cluster.Deploy(ctx, r.dir, d); err != nil {
		return err
	}
	r.Deployment = d
	return nil
}

// UpdateStates is each app service's update state ("completed",
// "rollback_completed", "updating" ...; "" before its first update).
func (r *Rehearsal) UpdateStates(ctx context.Context) (map[string]string, error) {
	states := map[string]string{}
	for _, svc := range stack.AppServices {
		out, err := r.Cluster.Manager().Docker(ctx, "service", "inspect", "-f", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}} {{.Spec.TaskTemplate.ContainerSpec.Image}}", StackName+"_"+svc)
		if err != nil {
			return nil, err
		}
		states[svc] = out
	}
	return states, nil
}
