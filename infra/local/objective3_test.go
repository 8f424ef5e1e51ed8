package local_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/e2e"
	"github.com/tet-bookstore/bookstore/app/token"
	"github.com/tet-bookstore/bookstore/app/web/apitest"
	"github.com/tet-bookstore/bookstore/infra/local"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

const (
	o3AdminEmail    = "rehearsal-admin@example.com"
	o3AdminPassword = "rehearsal-admin-password"
)

// Objective 3's rehearsal on MariaDB: auth, catalog and purchase, each on a
// database of its own, behind the gateway and the TLS front, seen from
// outside exactly as the monolith. The gateway hides the services' internal
// methods and carries request ids to them; 50 buyers for 10 copies buy
// exactly 10; killing the catalog while buyers buy gives prompt 503s, and
// once it is back stock and purchases add up and buying works; the
// browser journey and the monolith's API suite pass through the gateway.
// Stop leaves no process and no database behind.
func TestObjective3ServicesBehindTheGateway(t *testing.T) {
	nginxBin := testenv.Tool(t, "nginx")
	server := mysqlServer(t)
	bin := appBinary(t)
	logs := &lockedBuffer{}
	var logTo io.Writer = logs
	if testing.Verbose() {
		logTo = io.MultiWriter(logs, os.Stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	topo, err := local.Start(ctx, local.Options{
		Objective: 3, Binary: bin, NginxBin: nginxBin, HTTPSPort: freePort(t), HTTPPort: freePort(t),
		Dir: dir, MySQLServer: server, Log: logTo,
		// Passed through to the services: the admin account to auth, the
		// demo seed to catalog; the minimum bcrypt cost keeps the many
		// sign-ups cheap on a shared CI machine; the reconciler runs every
		// second on reservations pending for 3 s, so the kill test watches
		// it repair what the crash left.
		Environ: cleanEnviron("BOOKSTORE_BCRYPT_COST=4", "BOOKSTORE_SIGNUPS_PER_ADDRESS=10000", "BOOKSTORE_SEED_DEMO=true",
			"BOOKSTORE_ADMIN_EMAIL="+o3AdminEmail, "BOOKSTORE_ADMIN_PASSWORD="+o3AdminPassword,
			"BOOKSTORE_RECONCILE_INTERVAL=1s", "BOOKSTORE_RECONCILE_AFTER=3s"),
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = topo.Stop()
		}
	}()
	services := map[string]local.Instance{}
	for _, in := range topo.Instances {
		services[in.Name] = in
	}
	if topo.GatewayURL == "" || len(services) != 3 || !strings.HasPrefix(topo.Storage, "MariaDB") {
		t.Fatalf("want the gateway and three services on MariaDB, got %q, %v, %q", topo.GatewayURL, topo.Instances, topo.Storage)
	}
	gateway := apiClient{http: topo.Client(), base: topo.GatewayURL}

	t.Run("each service owns its tables in its own database", func(t *testing.T) {
		testServicesOwnTheirTables(t, services)
	})
	t.Run("the environment reaches every service", func(t *testing.T) {
		// The demo seed is the catalog's, the admin account auth's.
		waitFor(t, 30*time.Second, "the demo books", func() bool {
			var page struct{ Total int }
			res, err := gateway.do(context.Background(), http.MethodGet, "api/v1/books", nil, nil)
			return err == nil && res.Status == http.StatusOK && json.Unmarshal(res.Body, &page) == nil && page.Total > 0
		})
		var s apiSession
		gateway.must(t, http.MethodPost, "api/v1/auth/login", map[string]string{"email": o3AdminEmail, "password": o3AdminPassword}, http.StatusOK, &s)
	})
	t.Run("the gateway hides /internal/ and passes request ids through", func(t *testing.T) {
		testGatewayEdges(t, topo, dir, services, gateway, logs)
	})
	t.Run("50 buyers for 10 copies buy exactly 10", func(t *testing.T) {
		testFiftyBuyers(t, services, gateway)
	})
	t.Run("killing the catalog mid-purchase: prompt 503s, then consistent", func(t *testing.T) {
		testCatalogKilled(t, topo, services, gateway)
	})
	t.Run("browser journey through the gateway", func(t *testing.T) {
		e2e.Journey(t, topo.GatewayURL)
	})
	t.Run("through the TLS front: one HSTS header, no /metrics", func(t *testing.T) {
		testFrontHeaders(t, apiClient{http: topo.Client(), base: topo.URL})
	})
	// Last: its login rate-limit check locks this client's address out of
	// logging in for a while.
	t.Run("every input checked at the edge, through the gateway", func(t *testing.T) {
		apitest.Edge(t, strings.TrimSuffix(topo.GatewayURL, "/"))
	})
	t.Run("the monolith's API suite through the gateway", func(t *testing.T) {
		apitest.Run(t, strings.TrimSuffix(topo.GatewayURL, "/"), o3AdminEmail, o3AdminPassword)
	})

	pids := topo.PIDs()
	if err := topo.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	stopped = true
	for _, pid := range pids {
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still has processes after Stop (kill 0: %v)", pid, err)
		}
	}
	admin := openDB(t, server)
	for _, s := range services {
		var n int
		if err := admin.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", s.Database).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("database %s of %s survived Stop", s.Database, s.Name)
		}
	}
}

// ownedTables is which tables each service's database holds (besides
// schema_migrations): the service map of issue 5.
var ownedTables = map[string][]string{
	"auth":     {"login_failures", "revoked_sessions", "sessions", "users"},
	"catalog":  {"books", "stock_reservations", "usage_quotas"},
	"purchase": {"deliveries", "delivery_providers", "payments", "payment_attempts", "purchases", "purchase_buyers"},
}

func testServicesOwnTheirTables(t *testing.T, services map[string]local.Instance) {
	seen := map[string]bool{}
	for name, want := range ownedTables {
		s := services[name]
		if s.Database == "" || seen[s.Database] {
			t.Fatalf("%s has no database of its own: %q", name, s.Database)
		}
		seen[s.Database] = true
		rows, err := openDB(t, s.DBDSN).Query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> 'schema_migrations' ORDER BY table_name")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var tbl string
			if err := rows.Scan(&tbl); err != nil {
				t.Fatal(err)
			}
			got = append(got, tbl)
		}
		rows.Close()
		if !slices.Equal(got, want) {
			t.Errorf("%s's database %s holds tables %v, want %v", name, s.Database, got, want)
		}
	}
}

// The services' internal methods answer a service with its own token
// directly, but never through the gateway or the TLS front; a request id
// sent to the gateway comes back and is in the log line of the service that
// answered.
func testGatewayEdges(t *testing.T, topo *local.Topology, dir string, services map[string]local.Instance, gateway apiClient, logs *lockedBuffer) {
	// The catalog's own key (its demo seed looks accounts up at auth).
	keyFile := filepath.Join(dir, "secrets", token.ServicePrivateKeyFile("catalog"))
	if info, err := os.Stat(keyFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the catalog's service key file must be 0600: %v %v", info.Mode(), err)
	}
	key, err := token.LoadServicePrivateKey("catalog", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewServiceSigner(token.ServiceSignerOptions{Service: "catalog", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Token("auth")
	if err != nil {
		t.Fatal(err)
	}
	withToken := http.Header{"Authorization": {"Bearer " + tok}}
	lookup := map[string]string{"email": o3AdminEmail}
	direct, err := gateway.at(services["auth"].URL).do(context.Background(), http.MethodPost, "internal/v1/auth.user_by_email", lookup, withToken)
	if err != nil || direct.Status != http.StatusOK {
		t.Fatalf("auth itself must answer its internal method to the service token: %v %d %.200s", err, direct.Status, direct.Body)
	}
	for _, base := range []string{topo.GatewayURL, topo.URL} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			res, err := gateway.at(base).do(context.Background(), method, "internal/v1/auth.user_by_email", lookup, withToken)
			if err != nil || res.Status != http.StatusNotFound || strings.Contains(string(res.Body), o3AdminEmail) {
				t.Errorf("%s %sinternal/v1/auth.user_by_email: %v %d %.200s, want 404 and nothing about the user", method, base, err, res.Status, res.Body)
			}
		}
	}

	buyer, _ := gateway.signUp(t, "traced")
	for _, c := range []struct{ service, path string }{
		{"catalog", "api/v1/books"},
		{"purchase", "api/v1/purchases"},
		{"auth", "api/v1/auth/me"},
	} {
		id := "rehearsal-" + c.service + "-" + randomHex(6)
		res, err := buyer.do(context.Background(), http.MethodGet, c.path, nil, http.Header{"X-Request-Id": {id}})
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("GET %s: %v %d", c.path, err, res.Status)
		}
		if got := res.Header.Get("X-Request-ID"); got != id {
			t.Errorf("GET %s answered X-Request-ID %q, want the one sent, %q", c.path, got, id)
		}
		waitFor(t, 5*time.Second, c.service+" logging request "+id, func() bool {
			return slices.Contains(requestIDsLogged(logs.String(), c.service), id)
		})
	}
}

// requestIDsLogged are the request_id fields of a service's JSON log lines.
func requestIDsLogged(logs, service string) []string {
	var ids []string
	for _, line := range strings.Split(logs, "\n") {
		rest, ok := strings.CutPrefix(line, "["+service+"] ")
		if !ok {
			continue
		}
		var l struct {
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal([]byte(rest), &l) == nil && l.RequestID != "" {
			ids = append(ids, l.RequestID)
		}
	}
	return ids
}

// Where no MariaDB answers, each service gets a SQLite file of its own in
// Dir, and the store works through the TLS front. A caller's settings that
// would break the topology (one database for all, a service token or an
// auth URL of its own) are replaced, not passed on. Losing every service
// ends the rehearsal.
func TestObjective3FallsBackToSQLitePerService(t *testing.T) {
	nginxBin := testenv.Tool(t, "nginx")
	bin := appBinary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topo, err := local.Start(ctx, local.Options{
		Objective: 3, Binary: bin, NginxBin: nginxBin, HTTPSPort: freePort(t), HTTPPort: freePort(t),
		Dir: dir, MySQLServer: fmt.Sprintf("mysql://root:@127.0.0.1:%d/", freePort(t)), Log: io.Discard,
		Environ: cleanEnviron("BOOKSTORE_BCRYPT_COST=4", "BOOKSTORE_SIGNUPS_PER_ADDRESS=10000", "BOOKSTORE_MAX_OPEN_ORDERS=1000", "BOOKSTORE_DB_DSN=sqlite:"+filepath.Join(dir, "shared.db"),
			"BOOKSTORE_SERVICE_TOKEN=short", "BOOKSTORE_AUTH_URL=http://127.0.0.1:9"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer topo.Stop()
	if !strings.HasPrefix(topo.Storage, "SQLite") || !strings.Contains(topo.Storage, "no MariaDB/MySQL answers") {
		t.Errorf("Storage = %q, want SQLite and why", topo.Storage)
	}
	for _, s := range topo.Instances {
		if want := "sqlite:" + filepath.Join(dir, s.Name+".db"); s.DBDSN != want {
			t.Errorf("%s uses %q, want %q", s.Name, s.DBDSN, want)
		}
		if _, err := os.Stat(filepath.Join(dir, s.Name+".db")); err != nil {
			t.Errorf("%s's database: %v", s.Name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "shared.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the caller's BOOKSTORE_DB_DSN was used (stat: %v)", err)
	}

	front := apiClient{http: topo.Client(), base: topo.URL}
	seller, _ := front.signUp(t, "sqliteseller")
	var b apiBook
	seller.must(t, http.MethodPost, "api/v1/books", map[string]any{"title": "On Files", "author": "S. Lite",
		"description": "Kept in three files.", "price_cents": 700, "stock": 2}, http.StatusCreated, &b)
	buyer, _ := front.signUp(t, "sqlitebuyer")
	buyer.must(t, http.MethodPost, "api/v1/purchases", map[string]any{"book_id": b.ID, "quantity": 2}, http.StatusCreated, nil)
	if got := stockOf(t, front, b.ID); got != 0 {
		t.Errorf("stock after buying both copies = %d, want 0", got)
	}

	for _, s := range local.Objective3Services {
		select {
		case err := <-topo.Exited():
			t.Fatalf("the rehearsal ended before its last service died: %v", err)
		default:
		}
		if err := topo.Signal(s, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if err := topo.Wait(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-topo.Exited():
		t.Logf("with every service gone: %v", err)
	case <-time.After(5 * time.Second):
		t.Error("the rehearsal went on with every service dead")
	}
}

// A MariaDB that answers but refuses the rehearsal is an error to fix, in
// one line, not a reason to fall back to SQLite.
func TestObjective3RefusedByMariaDBSaysSo(t *testing.T) {
	nginxBin := testenv.Tool(t, "nginx")
	server, err := url.Parse(mysqlServer(t))
	if err != nil {
		t.Fatal(err)
	}
	server.User = url.UserPassword("no_such_rehearsal_user", "wrong")
	_, err = local.Start(context.Background(), local.Options{
		Objective: 3, Binary: "/nonexistent", NginxBin: nginxBin, Dir: t.TempDir(),
		MySQLServer: server.String(), Log: io.Discard, Environ: cleanEnviron(),
	})
	if err == nil || !strings.Contains(err.Error(), "refused the rehearsal") || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("want one line saying MariaDB refused (without the password), got %v", err)
	}
}
