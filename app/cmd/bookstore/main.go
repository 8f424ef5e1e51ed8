// Command bookstore is the one binary of the store. `bookstore serve` (the
// default) runs the monolith; `bookstore auth`, `catalog` and `purchase` run
// the microservices of objective 3 from the same code.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/monolith"
	"github.com/tet-bookstore/bookstore/app/services"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `bookstore — the TET second-hand bookstore

Usage:
  bookstore [serve]   run the store (HTML, JSON API, /healthz, /readyz, /metrics)
  bookstore version   print the version
  bookstore help      print this help

Configuration is by BOOKSTORE_* environment variables (see README.md):
BOOKSTORE_ADDR, BOOKSTORE_DB_DSN, BOOKSTORE_UPLOADS_DIR, BOOKSTORE_ADMIN_EMAIL,
BOOKSTORE_ADMIN_PASSWORD, BOOKSTORE_SEED_DEMO, BOOKSTORE_TRUSTED_PROXIES,
BOOKSTORE_LOG_LEVEL, BOOKSTORE_SHUTDOWN_TIMEOUT, BOOKSTORE_DRAIN_DELAY,
BOOKSTORE_BCRYPT_COST, BOOKSTORE_ENV; the services also read
BOOKSTORE_AUTH_URL, BOOKSTORE_CATALOG_URL, BOOKSTORE_PURCHASE_URL,
BOOKSTORE_SERVICE_PRIVATE_KEY_FILE, BOOKSTORE_{AUTH,CATALOG,PURCHASE}_SERVICE_PUBLIC_KEY_FILE,
BOOKSTORE_TOKEN_PUBLIC_KEY_FILE, BOOKSTORE_TOKEN_PRIVATE_KEY_FILE (auth) and
BOOKSTORE_TOKEN_TTL. Any BOOKSTORE_X may be given as BOOKSTORE_X_FILE, a
file holding the value.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run returns the exit code. Failures are one line on stderr; logs are JSON
// on stdout.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(config.Monolith, args, stdout)
	case "auth", "catalog", "purchase":
		err = serve(config.Role(cmd), args, stdout)
	case "keygen":
		err = keygen(args, stdout)
	case "healthcheck":
		err = healthcheck(args)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "bookstore", fullVersion())
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "bookstore: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "bookstore:", oneLine(err))
		return 1
	}
	return 0
}

func serve(role config.Role, args []string, stdout io.Writer) error {
	name := string(role)
	if role == config.Monolith {
		name = "serve"
	}
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments (configure it with BOOKSTORE_* variables), got %q", name, strings.Join(args, " "))
	}
	cfg, err := config.Load(role, os.LookupEnv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	cfg.Logger = log

	// The first SIGINT or SIGTERM starts a graceful shutdown; a second one
	// kills the process the usual way.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stop() }()

	log.Info("starting", "version", fullVersion(), "role", string(role), "addr", cfg.Addr)
	var app interface {
		Serve(ctx context.Context, l net.Listener) error
		Close() error
	}
	if role == config.Monolith {
		app, err = monolith.New(ctx, cfg)
	} else {
		app, err = services.New(ctx, cfg)
	}
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		app.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return app.Serve(ctx, l)
}

// oneLine flattens an error (errors.Join puts one per line) for stderr.
func oneLine(err error) string {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	if errors.Is(err, context.Canceled) {
		msg += " (interrupted)"
	}
	return msg
}

func fullVersion() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
