package swarm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/objective3/stack"
	"github.com/tet-bookstore/bookstore/infra/swarm"
)

// The rehearsal's stack is the committed one with only the substitutions
// this machine needs (host-mode port, dnsrr, no IPsec, a bind instead of
// EFS) and the passed-through settings: the validator objects to exactly
// those and nothing else.
func TestRenderChangesOnlyWhatTheMachineLacks(t *testing.T) {
	d := swarm.Deployment{Version: "v1", GatewayImage: "gw:local", AdminEmail: "admin@example.com", SharedDir: "/srv/x",
		Environ: []string{"BOOKSTORE_SEED_DEMO=true", "BOOKSTORE_ADMIN_PASSWORD=secret-pw", "PATH=/bin"}}
	out, err := swarm.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, stack.GatewayConfName), []byte(stack.GatewayConf()), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := stack.Load(context.Background(), out, dir, d.Env())
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range p.Services {
		if s.Deploy == nil || s.Deploy.EndpointMode != "dnsrr" {
			t.Errorf("service %s: endpoint_mode is not dnsrr", name)
		}
		if v := s.Environment["BOOKSTORE_SEED_DEMO"]; name != stack.Gateway && (v == nil || *v != "true") {
			t.Errorf("service %s: BOOKSTORE_SEED_DEMO not passed through", name)
		}
	}
	if strings.Contains(out, "secret-pw") {
		t.Error("a credential from the environment was written into the stack file")
	}
	if got := p.Volumes["shared"].DriverOpts; got["type"] != "none" || got["o"] != "bind" || got["device"] != "/srv/x" {
		t.Errorf("shared volume = %v, want a bind of /srv/x", got)
	}
	err = stack.Validate(p)
	var complaints []string
	if err != nil {
		complaints = strings.Split(err.Error(), "\n")
	}
	for _, c := range complaints {
		if !strings.Contains(c, "ingress mode") && !strings.Contains(c, "encrypted") && !strings.Contains(c, "NFS volume") {
			t.Errorf("the rehearsal broke a rule it has no reason to: %s", c)
		}
	}
	if len(complaints) == 0 {
		t.Error("the validator saw none of the substitutions")
	}
}
