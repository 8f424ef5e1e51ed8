package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/token"
)

// keygen writes the Ed25519 key pair the auth service signs users' tokens
// with and the other services verify them with, or with --service NAME the
// pair that service signs its calls to the others with.
func keygen(args []string, stdout io.Writer) error {
	const usage = "usage: bookstore keygen [--service auth|catalog|purchase] --out DIR"
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "directory for the key pair")
	service := fs.String("service", "", "write this service's own key pair instead of the users' token keys")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("keygen: %w (%s)", err, usage)
	}
	if *out == "" || fs.NArg() > 0 {
		return fmt.Errorf("keygen: %s", usage)
	}
	if *service != "" {
		role := config.Role(*service)
		if !slices.Contains(config.ServiceRoles, role) {
			return fmt.Errorf("keygen: --service %q: not auth, catalog or purchase", *service)
		}
		if err := token.WriteServiceKeyPair(*out, *service); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (secret: the %s service only, as %s) and %s (the other services, as %s)\n",
			filepath.Join(*out, token.ServicePrivateKeyFile(*service)), *service, config.ServiceKeyVar,
			filepath.Join(*out, token.ServicePublicKeyFile(*service)), config.ServicePublicKeyVar(role))
		return nil
	}
	if err := token.WriteKeyPair(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (secret: the auth service only) and %s (every service)\n",
		filepath.Join(*out, token.PrivateKeyFile), filepath.Join(*out, token.PublicKeyFile))
	return nil
}

// healthcheck is for container health checks: the image has no shell or
// curl, so the binary checks itself.
func healthcheck(args []string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	url := fs.String("url", "", "URL to GET (default http://127.0.0.1:PORT/PATH, PORT from BOOKSTORE_ADDR)")
	// /healthz for an orchestrator's liveness check: /readyz also fails
	// while the database is away, and a restart would not bring it back.
	path := fs.String("path", "/readyz", "path on BOOKSTORE_ADDR's port when --url is not given (/readyz or /healthz)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: usage: bookstore healthcheck [--url URL | --path /readyz] [--timeout 3s]")
	}
	if *url == "" {
		addr := os.Getenv("BOOKSTORE_ADDR")
		if addr == "" {
			addr = config.DefaultAddr
		}
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("healthcheck: BOOKSTORE_ADDR %q is not HOST:PORT", addr)
		}
		if !strings.HasPrefix(*path, "/") {
			return fmt.Errorf("healthcheck: --path %q must start with /", *path)
		}
		*url = "http://127.0.0.1:" + port + *path
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", *url, res.StatusCode)
	}
	return nil
}
