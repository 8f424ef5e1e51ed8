package swarm_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/web/apitest"
	"github.com/tet-bookstore/bookstore/infra/objective3/stack"
	"github.com/tet-bookstore/bookstore/infra/swarm"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// One swarm for every check, since forming it and converging the stack
// takes minutes: the API contract through the gateway, the secrets as
// files, then the faults.
func TestSwarm(t *testing.T) {
	testenv.Docker(t)
	for _, tool := range []string{"ip", "iptables", "nsenter", "dockerd", "mariadbd", "mariadb-install-db", "debootstrap"} {
		testenv.Tool(t, tool)
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "the swarm rehearsal makes network namespaces: run as root")
	}
	ctx := context.Background()
	start := time.Now()
	// The loads below register many buyers from one address and leave
	// orders unpaid; those limits have their own tests, so the rehearsal
	// raises them (rehearsal-only settings, not the stack's values). The
	// unpaid-order limit stays under the 60 the contract suite checks for.
	r, err := swarm.Up(ctx, swarm.RehearsalOptions{Environ: []string{"BOOKSTORE_LOG_LEVEL=warn", "BOOKSTORE_RECONCILE_INTERVAL=2s", "BOOKSTORE_RECONCILE_AFTER=20s",
		"BOOKSTORE_SIGNUPS_PER_ADDRESS=10000", "BOOKSTORE_MAX_OPEN_ORDERS=50", "BOOKSTORE_MAX_BOOKS_PER_HOUR=0"}, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Down(); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	t.Logf("swarm up and converged in %s", time.Since(start).Round(time.Second))
	nodes, err := r.Cluster.NodeList(ctx)
	if err != nil || strings.Count(nodes, "Ready") != 3 {
		t.Fatalf("docker node ls: want 3 ready nodes, got %v\n%s", err, nodes)
	}

	t.Run("Contract", func(t *testing.T) {
		apitest.Run(t, strings.TrimSuffix(r.GatewayURL, "/"), r.AdminEmail, r.AdminPassword)
	})
	t.Run("SecretsAreFiles", func(t *testing.T) { checkSecrets(t, r) })
	t.Run("DatabaseOutage", func(t *testing.T) { checkDatabaseOutage(t, r) })
	t.Run("RollingUpdate", func(t *testing.T) { checkRollingUpdate(t, r) })
	// Last: it leaves the swarm a node short.
	t.Run("NodeLoss", func(t *testing.T) { checkNodeLoss(t, r) })
}

// Every app task reads its credentials from /run/secrets (0400, its own
// uid), and none of them is in its environment.
func checkSecrets(t *testing.T, r *swarm.Rehearsal) {
	ctx := context.Background()
	for _, svc := range stack.AppServices {
		containers := r.Containers(ctx, svc)
		if len(containers) == 0 {
			t.Fatalf("no running %s container", svc)
		}
		c := containers[0]
		dsn := readSecret(t, c, svc+"_db_dsn")
		if !strings.HasPrefix(dsn, "mysql://") {
			t.Errorf("%s: /run/secrets/%s_db_dsn is not a DSN", svc, svc)
		}
		token := readSecret(t, c, svc+"_service_key")
		env, err := c.Node.Docker(ctx, "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{dsn, token} {
			if strings.Contains(env, secret) {
				t.Errorf("%s: a secret's value is in the container's environment", svc)
			}
		}
		if !strings.Contains(env, "BOOKSTORE_DB_DSN_FILE=/run/secrets/"+svc+"_db_dsn") {
			t.Errorf("%s: the environment does not point at the DSN's secret file:\n%s", svc, env)
		}
	}
}

func readSecret(t *testing.T, c swarm.Container, name string) string {
	t.Helper()
	path := filepath.Join("/proc", c.PID, "root", "run", "secrets", name)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%s: secret %s: %v", c.Service, name, err)
	}
	if fi.Mode().Perm() != 0o400 {
		t.Errorf("%s: /run/secrets/%s has mode %o, want 400", c.Service, name, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// MariaDB stopped for longer than the healthcheck window (3 x 10s) restarts
// no task, since the stack checks liveness; the store answers again once
// it is back.
func checkDatabaseOutage(t *testing.T, r *swarm.Rehearsal) {
	ctx := context.Background()
	before := taskIDs(t, r)
	r.DB.Stop()
	stopped := time.Now()
	restarted := false
	defer func() {
		if !restarted {
			_ = r.DB.Start(ctx)
		}
	}()
	codes := map[int]int{}
	for time.Since(stopped) < 50*time.Second {
		code, _ := r.Get("api/v1/books")
		codes[code]++
		time.Sleep(2 * time.Second)
	}
	t.Logf("GET /api/v1/books while the database was down: %v (status: count)", codes)
	if codes[200] == len(codes) {
		t.Error("the catalog answered 200 throughout: the database was never down")
	}
	if after := taskIDs(t, r); !slices.Equal(before, after) {
		t.Errorf("tasks were replaced during the database outage:\nbefore %v\nafter  %v", before, after)
	}
	if err := r.DB.Start(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	back := time.Now()
	for {
		if code, _ := r.Get("api/v1/books"); code == 200 {
			break
		}
		if time.Since(back) > 60*time.Second {
			t.Fatal("the store did not answer 200 within 60s of the database's return")
		}
		time.Sleep(time.Second)
	}
	t.Logf("served again %s after the database returned", time.Since(back).Round(time.Second))
	if after := taskIDs(t, r); !slices.Equal(before, after) {
		t.Errorf("tasks were replaced after the database outage:\nbefore %v\nafter  %v", before, after)
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	if testing.Verbose() {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func taskIDs(t *testing.T, r *swarm.Rehearsal) []string {
	t.Helper()
	ids, err := r.TaskIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
