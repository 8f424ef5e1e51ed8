// Command local rehearses an objective on loopback in the foreground: the
// app processes and a local NGINX with the proxy's rendered sites and a local
// certificate. Ctrl-C or SIGTERM stops every process it started.
//
//	go run ./infra/cmd/local --objective 1 --binary ./bin/bookstore
//	go run ./infra/cmd/local --objective 2 --binary ./bin/bookstore
//	go run ./infra/cmd/local --objective 3 --binary ./bin/bookstore
//
// Ports come from LOCAL_HTTPS_PORT (8443) and LOCAL_HTTP_PORT (8081).
// Objective 1's app uses SQLite in a temporary directory, or the MariaDB/MySQL
// server at 127.0.0.1:3306 with --db mariadb (or LOCAL_DB=mariadb).
// Objective 2's three instances share a fresh database created on the server
// named by --mysql (LOCAL_MYSQL_DSN, default the local MariaDB as root) and
// dropped on exit. Objective 3's services (auth, catalog, purchase) behind
// the gateway get a fresh database each on that server, dropped on exit, or
// a SQLite file each when no server answers there.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tet-bookstore/bookstore/infra/local"
)

func main() {
	objective := flag.Int("objective", 1, "objective to rehearse (1, 2 or 3)")
	binary := flag.String("binary", "./bin/bookstore", "the bookstore binary")
	db := flag.String("db", envOr("LOCAL_DB", "sqlite"), "objective 1: sqlite, or mariadb for the server at 127.0.0.1:3306")
	mysqlServer := flag.String("mysql", envOr("LOCAL_MYSQL_DSN", local.DefaultMySQLServer), "objectives 2 and 3: the MySQL server (mysql://USER:PASS@HOST:PORT/) to create the databases on")
	keep := flag.Bool("keep", false, "keep the temporary directory (database, uploads) on exit")
	acmeMode := flag.String("acme", envOr("ACME", local.ACMELocal), "the front's certificate: local (a throw-away CA) or pebble (certbot against a local pebble ACME server, HTTP-01 through NGINX)")
	engine := flag.String("engine", os.Getenv("ENGINE"), "objective 3: empty for processes on loopback, swarm for a real three-node Docker Swarm")
	flag.Parse()
	if err := run(*objective, *binary, *db, *mysqlServer, *acmeMode, *engine, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "local: %v\n", err)
		os.Exit(1)
	}
}

func run(objective int, binary, db, mysqlServer, acmeMode, engine string, keep bool) error {
	httpsPort, err := port("LOCAL_HTTPS_PORT", 8443)
	if err != nil {
		return err
	}
	httpPort, err := port("LOCAL_HTTP_PORT", 8081)
	if err != nil {
		return err
	}
	dsn := ""
	if objective == 1 {
		if dsn, err = databaseDSN(db); err != nil {
			return err
		}
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

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	topo, err := local.Start(ctx, local.Options{
		Objective: objective, Binary: binary, HTTPSPort: httpsPort, HTTPPort: httpPort,
		Dir: dir, DBDSN: dsn, MySQLServer: mysqlServer, Environ: os.Environ(), ACME: acmeMode, Engine: engine,
	})
	if err != nil {
		return unwrapLocal(err)
	}
	defer func() {
		if err := topo.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "local: %v\n", unwrapLocal(err))
		}
	}()
	printReady(os.Stdout, topo)
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "local: stopping")
		return nil
	case err := <-topo.Exited():
		return unwrapLocal(err)
	}
}

// printReady prints the ready: line first (scripts and tests wait for it),
// then what an operator needs to poke at the topology.
func printReady(w io.Writer, topo *local.Topology) {
	if topo.Swarm != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		nodes, err := topo.Swarm.Cluster.NodeList(ctx)
		cancel()
		if err != nil {
			nodes = err.Error()
		}
		fmt.Fprintf(w, "%s\n", nodes)
	}
	fmt.Fprintf(w, "ready: %s\n", topo.URL)
	if topo.Swarm != nil {
		for _, n := range topo.Swarm.Cluster.Nodes {
			fmt.Fprintf(w, "  node %s: %s, DOCKER_HOST=%s\n", n.Name, n.IP, n.Host)
		}
		fmt.Fprintf(w, "  gateway: %s (the entry balancer: PROXY protocol to the nodes' gateways)\n", topo.GatewayURL)
	}
	if topo.GatewayURL != "" && topo.Swarm == nil {
		for _, in := range topo.Instances {
			fmt.Fprintf(w, "  service %s: %s (pid %d)\n", in.Name, in.URL, in.PID)
		}
		fmt.Fprintf(w, "  gateway: %s (routes each path to its service; /internal/ is not reachable through it)\n", topo.GatewayURL)
	} else if len(topo.Instances) > 1 {
		for _, in := range topo.Instances {
			fmt.Fprintf(w, "  instance %s: %s (pid %d; kill it, the balancer moves on)\n", in.Name, in.URL, in.PID)
		}
	}
	if topo.BalancerURL != "" {
		fmt.Fprintf(w, "  balancer: %s (X-Upstream-Addr says which instance answered)\n", topo.BalancerURL)
	}
	if topo.Storage != "" {
		fmt.Fprintf(w, "  storage: %s\n", topo.Storage)
	}
	if topo.Database != "" {
		fmt.Fprintf(w, "  database: %s (created for this run, dropped on exit)\n", topo.Database)
	}
	if topo.AdminPasswordFile != "" {
		fmt.Fprintf(w, "  admin password (generated, for BOOKSTORE_ADMIN_EMAIL or admin@bookstore.local): %s\n", topo.AdminPasswordFile)
	}
	if topo.ACME != nil {
		fmt.Fprintf(w, "  certificate: issued by pebble through certbot (%s); trust %s to browse it\n", topo.ACME.CertFile(), topo.ACME.RootFile)
		fmt.Fprintf(w, "(%s redirects to HTTPS; Ctrl-C stops)\n", topo.HTTPURL)
		return
	}
	fmt.Fprintf(w, "(certificate from a throw-away local CA; %s redirects to HTTPS; Ctrl-C stops)\n", topo.HTTPURL)
}

// unwrapLocal drops the package's "local: " prefix, which main adds.
func unwrapLocal(err error) error {
	if err == nil {
		return nil
	}
	if msg, ok := strings.CutPrefix(err.Error(), "local: "); ok {
		return errors.New(msg)
	}
	return err
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
