package acme

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Certbot runs Debian's certbot with its state under Dir instead of
// /etc/letsencrypt, against Server, trusting CABundle for the ACME endpoint.
type Certbot struct {
	Bin      string // default "certbot"
	Dir      string // config/, work/ and logs/ go under it
	Server   string // the ACME directory URL
	CABundle string // REQUESTS_CA_BUNDLE: what certbot's HTTPS client trusts
	Log      io.Writer
}

// ConfigDir is certbot's --config-dir (what /etc/letsencrypt is on the proxy).
func (c Certbot) ConfigDir() string { return filepath.Join(c.Dir, "config") }

// LiveDir holds live/NAME/fullchain.pem, as /etc/letsencrypt/live does.
func (c Certbot) LiveDir() string { return filepath.Join(c.ConfigDir(), "live") }

// DeployHookDir is where certbot renew finds the deploy hooks it runs after
// each renewed certificate (the proxy's reload-nginx lives there).
func (c Certbot) DeployHookDir() string {
	return filepath.Join(c.ConfigDir(), "renewal-hooks", "deploy")
}

// Run runs certbot SUBCOMMAND ARGS... with the directories and server set.
func (c Certbot) Run(ctx context.Context, subcommand string, args ...string) error {
	bin := c.Bin
	if bin == "" {
		bin = "certbot"
	}
	argv := append([]string{subcommand,
		"--config-dir", c.ConfigDir(), "--work-dir", filepath.Join(c.Dir, "work"), "--logs-dir", filepath.Join(c.Dir, "logs"),
		"--server", c.Server, "--non-interactive"}, args...)
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+c.CABundle)
	log := c.Log
	if log == nil {
		log = os.Stderr
	}
	cmd.Stdout, cmd.Stderr = &prefixed{w: log, name: "certbot"}, &prefixed{w: log, name: "certbot"}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("acme: certbot %s: %w (log in %s)", subcommand, err, filepath.Join(c.Dir, "logs"))
	}
	return nil
}

// LeafSerial is the serial number of the first certificate in a PEM file
// (certbot's cert.pem or fullchain.pem), in hex.
func LeafSerial(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return "", fmt.Errorf("acme: %s holds no PEM block", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("acme: %s: %w", file, err)
	}
	return cert.SerialNumber.Text(16), nil
}
