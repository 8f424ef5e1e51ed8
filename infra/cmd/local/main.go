// Command local rehearses an objective on loopback in the foreground: the
// app and a local NGINX with the proxy's rendered sites and a local
// certificate. Ctrl-C or SIGTERM stops every process it started.
//
//	go run ./infra/cmd/local --objective 1 --binary ./bin/bookstore
//
// Ports come from LOCAL_HTTPS_PORT (8443) and LOCAL_HTTP_PORT (8081). The app
// uses SQLite in a temporary directory, or the MariaDB/MySQL server at
// 127.0.0.1:3306 with --db mariadb (or LOCAL_DB=mariadb).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/tet-bookstore/bookstore/infra/local"
)

func main() {
	objective := flag.Int("objective", 1, "objective to rehearse (1)")
	binary := flag.String("binary", "./bin/bookstore", "the bookstore binary")
	db := flag.String("db", envOr("LOCAL_DB", "sqlite"), "sqlite, or mariadb for the server at 127.0.0.1:3306")
	keep := flag.Bool("keep", false, "keep the temporary directory (database, uploads) on exit")
	flag.Parse()
	if err := run(*objective, *binary, *db, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "local: %v\n", err)
		os.Exit(1)
	}
}

func run(objective int, binary, db string, keep bool) error {
	httpsPort, err := port("LOCAL_HTTPS_PORT", 8443)
	if err != nil {
		return err
	}
	httpPort, err := port("LOCAL_HTTP_PORT", 8081)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bookstore-local-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintf(os.Stderr, "local: data kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	dsn, err := databaseDSN(db)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	topo, err := local.Start(ctx, local.Options{
		Objective: objective, Binary: binary, HTTPSPort: httpsPort, HTTPPort: httpPort,
		Dir: dir, DBDSN: dsn, Environ: os.Environ(),
	})
	if err != nil {
		return err
	}
	defer topo.Stop()
	fmt.Printf("ready: %s\n", topo.URL)
	fmt.Printf("(certificate from a throw-away local CA; %s redirects to HTTPS; Ctrl-C stops)\n", topo.HTTPURL)
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "local: stopping")
		return nil
	case err := <-topo.Exited():
		return err
	}
}

// databaseDSN is SQLite by default (empty: the rehearsal picks a file), or
// the local MariaDB when asked for and reachable.
func databaseDSN(db string) (string, error) {
	switch db {
	case "sqlite":
		return "", nil
	case "mariadb", "mysql":
		conn, err := net.DialTimeout("tcp", "127.0.0.1:3306", 2*time.Second)
		if err != nil {
			return "", fmt.Errorf("--db mariadb: nothing listens on 127.0.0.1:3306: %w", err)
		}
		conn.Close()
		const name = "bookstore_local"
		if mysql, err := exec.LookPath("mysql"); err == nil {
			out, err := exec.Command(mysql, "-h127.0.0.1", "-uroot", "-e", "CREATE DATABASE IF NOT EXISTS "+name).CombinedOutput()
			if err != nil {
				return "", fmt.Errorf("creating database %s: %v: %s", name, err, out)
			}
		}
		return "mysql://root:@127.0.0.1:3306/" + name, nil
	}
	return "", fmt.Errorf("--db must be sqlite or mariadb, got %q", db)
}

func port(env string, def int) (int, error) {
	v := os.Getenv(env)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%s must be a port number, got %q", env, v)
	}
	return n, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
