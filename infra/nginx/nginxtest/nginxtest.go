// Package nginxtest runs the real `nginx -t` on rendered configuration, with
// throw-away certificates where the configuration expects them.
package nginxtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/localca"
	"github.com/tet-bookstore/bookstore/infra/nginx"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// Check renders p (its TLS.LiveDir and ACME webroot redirected into a
// temporary prefix) and fails the test unless `nginx -t` accepts it. Outside
// CI a missing nginx skips the test; under CI=true it fails.
func Check(t *testing.T, p nginx.Proxy, bootstrap bool) string {
	t.Helper()
	bin := testenv.Tool(t, "nginx")
	prefix := t.TempDir()
	p.TLS.LiveDir = filepath.Join(prefix, "live")
	if p.ACMEWebroot != "" {
		p.ACMEWebroot = filepath.Join(prefix, "acme")
	}
	render := nginx.RenderSites
	if bootstrap {
		render = nginx.RenderBootstrap
	}
	sites, err := render(p)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	certNames := []string{p.TLS.CertName}
	if p.TLS.CertName == "" {
		certNames = p.Hosts()
	}
	for _, name := range certNames {
		if _, err := localca.Issue(filepath.Join(p.TLS.LiveDir, name), p.Hosts()); err != nil {
			t.Fatal(err)
		}
	}
	Validate(t, bin, prefix, sites)
	return sites
}

// Validate writes sites and a standalone main configuration under prefix and
// runs `nginx -t` on them.
func Validate(t *testing.T, bin, prefix, sites string) {
	t.Helper()
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sitesFile := filepath.Join(prefix, "sites.conf")
	mainConf, err := nginx.RenderMain(nginx.Main{Prefix: prefix, SitesFile: sitesFile})
	if err != nil {
		t.Fatal(err)
	}
	mainFile := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(sitesFile, []byte(sites), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mainFile, []byte(mainConf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-t", "-q", "-p", prefix+"/", "-c", mainFile, "-e", filepath.Join(prefix, "logs", "error.log")).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t rejected the rendered configuration: %v\n%s\n--- sites.conf ---\n%s", err, out, sites)
	}
}
