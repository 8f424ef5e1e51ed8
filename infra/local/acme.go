package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tet-bookstore/bookstore/infra/acme"
	"github.com/tet-bookstore/bookstore/infra/nginx"
)

// Where the front's certificate comes from (Options.ACME).
const (
	ACMELocal  = "local"
	ACMEPebble = "pebble"
)

// certName is the certificate's name, as on the proxy VM (HTTP-01: one
// certificate for every name).
const certName = "bookstore"

// ACMEFront is the certbot state and the pebble server behind the front.
type ACMEFront struct {
	Certbot acme.Certbot
	Pebble  *acme.Server
	// RootPEM is pebble's root, the one certificate a browser must trust.
	RootPEM  []byte
	RootFile string
	// Hosts are the names the certificate covers, the apex first.
	Hosts []string
}

// CertFile is the live certificate NGINX serves.
func (a *ACMEFront) CertFile() string {
	return filepath.Join(a.Certbot.LiveDir(), certName, "cert.pem")
}

// Renew runs `certbot renew --force-renewal`: a new certificate, then the
// deploy hook that reloads NGINX, as the proxy's certbot.timer would.
func (a *ACMEFront) Renew(ctx context.Context) error {
	return a.Certbot.Run(ctx, "renew", "--force-renewal", "--no-random-sleep-on-renew")
}

// obtainCertificate follows the proxy VM's boot (infra/userdata/scripts/
// proxy.sh.tmpl) on loopback: NGINX already runs the bootstrap sites, so
// certbot's HTTP-01 challenge is answered from the webroot; then the full
// sites are installed with the certificate and NGINX reloads. Pebble
// validates on the rehearsal's HTTP port, resolving every name to loopback.
func (t *Topology) obtainCertificate(ctx context.Context, o Options, l layout, front frontTLS, nginxArgs []string) error {
	cache := o.CacheDir
	if cache == "" {
		cache = acme.DefaultCacheDir()
	}
	pebbleBin, challBin, err := acme.Binaries(ctx, cache)
	if err != nil {
		return err
	}
	dir := filepath.Join(t.prefix, "acme")
	if err := os.MkdirAll(filepath.Join(dir, "pebble"), 0o755); err != nil {
		return err
	}
	srv, err := acme.Start(ctx, acme.Options{
		Dir: filepath.Join(dir, "pebble"), Pebble: pebbleBin, ChallSrv: challBin,
		Host: "127.0.0.1", HTTPPort: o.HTTPPort, DefaultIPv4: "127.0.0.1", Log: t.log,
	})
	if err != nil {
		return err
	}
	t.cleanup = append(t.cleanup, func() error { srv.Stop(); return nil })
	certbot := acme.Certbot{Dir: filepath.Join(dir, "certbot"), Server: srv.DirectoryURL, CABundle: srv.CAFile, Log: t.log}
	hosts := []string{Domain}
	for _, s := range nginx.ObjectiveSites("", "", "") {
		hosts = append(hosts, s.Name+"."+Domain)
	}
	if err := t.waitWebroot(ctx, o, front.webroot); err != nil {
		return err
	}
	args := []string{"--agree-tos", "--register-unsafely-without-email", "--keep-until-expiring",
		"--webroot", "--webroot-path", front.webroot, "--cert-name", certName}
	for _, h := range hosts {
		args = append(args, "-d", h)
	}
	if err := certbot.Run(ctx, "certonly", args...); err != nil {
		return err
	}
	// The deploy hook does what the proxy's reload-nginx does: check, then
	// reload the NGINX that serves the certificate.
	hook := fmt.Sprintf("#!/bin/sh\nset -eu\n%s -t -q %s\n%s %s -s reload\n",
		shq(o.NginxBin), shqAll(nginxArgs), shq(o.NginxBin), shqAll(nginxArgs))
	if err := os.MkdirAll(certbot.DeployHookDir(), 0o755); err != nil {
		return err
	}
	hookFile := filepath.Join(certbot.DeployHookDir(), "reload-nginx")
	if err := os.WriteFile(hookFile, []byte(hook), 0o755); err != nil {
		return err
	}
	full := frontTLS{tls: nginx.TLS{LiveDir: certbot.LiveDir(), CertName: certName}, webroot: front.webroot}
	if _, err := writeNginxConfig(t.prefix, o, l, full); err != nil {
		return err
	}
	rootPEM, roots, err := srv.Roots(ctx)
	if err != nil {
		return err
	}
	rootFile := filepath.Join(dir, "pebble-root.pem")
	if err := os.WriteFile(rootFile, rootPEM, 0o644); err != nil {
		return err
	}
	t.CA = roots
	t.ACME = &ACMEFront{Certbot: certbot, Pebble: srv, RootPEM: rootPEM, RootFile: rootFile, Hosts: hosts}
	if err := runHook(ctx, hookFile); err != nil {
		return err
	}
	return nil
}

// waitWebroot waits until NGINX serves a file from the ACME webroot on the
// HTTP port, as pebble will fetch the challenge.
func (t *Topology) waitWebroot(ctx context.Context, o Options, webroot string) error {
	probe := filepath.Join(webroot, ".well-known", "acme-challenge", "rehearsal-probe")
	if err := os.MkdirAll(filepath.Dir(probe), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(probe, []byte("ok"), 0o644); err != nil {
		return err
	}
	defer os.Remove(probe)
	url := fmt.Sprintf("http://objective1.%s:%d/.well-known/acme-challenge/rehearsal-probe", Domain, o.HTTPPort)
	return t.waitReady(ctx, 30*time.Second, []string{url}, t.exited)
}

func runHook(ctx context.Context, file string) error {
	out, err := exec.CommandContext(ctx, file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("local: deploy hook %s: %v\n%s", file, err, out)
	}
	return nil
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func shqAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shq(a)
	}
	return strings.Join(q, " ")
}
