package local_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/tet-bookstore/bookstore/infra/local"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// lockedBuffer collects the children's logs while the test reads them.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mysqlServer is the test MySQL server (BOOKSTORE_TEST_MYSQL_DSN without its
// database), after testenv has made sure it answers.
func mysqlServer(t *testing.T) string {
	t.Helper()
	testenv.MySQL(t) // skips, or fails under CI, when there is no server
	u, err := url.Parse(os.Getenv("BOOKSTORE_TEST_MYSQL_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/"
	return u.String()
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", u.Host, strings.TrimPrefix(u.Path, "/")
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// cleanEnviron is the test's environment without the developer's BOOKSTORE_*
// settings, plus the given ones.
func cleanEnviron(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BOOKSTORE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// logLine is the part of the app's JSON log lines the test reads.
type logLine struct {
	Level   string `json:"level"`
	Msg     string `json:"msg"`
	Module  string `json:"module"`
	Version int    `json:"version"`
}

// appLogs parses the JSON lines each instance logged, by instance name.
func appLogs(logs string) map[string][]logLine {
	out := map[string][]logLine{}
	for _, line := range strings.Split(logs, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "["), "] ")
		if !ok || !strings.HasPrefix(name, "app") {
			continue
		}
		var l logLine
		if json.Unmarshal([]byte(rest), &l) == nil {
			out[name] = append(out[name], l)
		}
	}
	return out
}

// Objective 2's rehearsal: three instances started together on one fresh
// MariaDB database and one uploads directory, behind the balancer and the
// TLS front. They are interchangeable: migrations ran once, a session and
// a cover made on one are seen by all, and losing two instances under load
// (one stopped, one killed) loses or doubles no purchase and fails no GET.
func TestObjective2InstancesAreInterchangeable(t *testing.T) {
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
		Objective: 2, Binary: bin, NginxBin: nginxBin, HTTPSPort: freePort(t), HTTPPort: freePort(t),
		Dir: dir, MySQLServer: server, Log: logTo,
		// The minimum bcrypt cost keeps the buyers' sign-ups cheap on a
		// shared CI machine; the generated admin password is tested too.
		// The reconciler runs every second on reservations pending 3 s, so
		// the fault test watches it repair what a killed request left.
		Environ: cleanEnviron("BOOKSTORE_BCRYPT_COST=4", "BOOKSTORE_SIGNUPS_PER_ADDRESS=10000", "BOOKSTORE_MAX_OPEN_ORDERS=1000", "BOOKSTORE_RECONCILE_INTERVAL=1s", "BOOKSTORE_RECONCILE_AFTER=3s"),
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
	if topo.Database == "" || len(topo.Instances) != 3 {
		t.Fatalf("want a created database and three instances, got %q and %v", topo.Database, topo.Instances)
	}
	db := openDB(t, topo.DBDSN)
	client := topo.Client()
	front := apiClient{http: client, base: topo.URL}

	t.Run("the three simultaneous starts migrated once", func(t *testing.T) {
		testMigratedOnce(t, db, appLogs(logs.String()))
	})
	seller, _ := front.signUp(t, "seller")
	t.Run("a session made on one instance is valid on all", func(t *testing.T) {
		testSessionsShared(t, topo, front)
	})
	t.Run("a cover uploaded through one instance is served by all", func(t *testing.T) {
		testCoversShared(t, topo, seller)
	})
	t.Run("a favicon put on the shared directory is served by all", func(t *testing.T) {
		testStaticShared(t, topo, seller, filepath.Join(dir, "uploads", "static"))
	})
	t.Run("no purchase lost or doubled, no GET failed, while instances stop and die", func(t *testing.T) {
		testFaultsUnderLoad(t, topo, db, front, seller, logs)
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
	var n int
	admin := openDB(t, server)
	if err := admin.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", topo.Database).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s survived Stop", topo.Database)
	}
}

// Every migration step was applied by exactly one instance, every step in
// schema_migrations was logged as applied once, and no instance failed.
func testMigratedOnce(t *testing.T, db *sql.DB, logs map[string][]logLine) {
	applied := map[string][]string{}
	for name, lines := range logs {
		for _, l := range lines {
			if l.Msg == "schema migration applied" {
				step := fmt.Sprintf("%s/%d", l.Module, l.Version)
				applied[step] = append(applied[step], name)
			}
			if l.Level == "ERROR" {
				t.Errorf("%s logged an error while starting: %+v", name, l)
			}
		}
	}
	for _, name := range []string{"app1", "app2", "app3"} {
		serving := false
		for _, l := range logs[name] {
			serving = serving || l.Msg == "serving"
		}
		if !serving {
			t.Errorf("%s never logged serving: it did not start", name)
		}
	}
	rows, err := db.Query("SELECT module, version FROM schema_migrations")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	recorded := 0
	for rows.Next() {
		var module string
		var version int
		if err := rows.Scan(&module, &version); err != nil {
			t.Fatal(err)
		}
		recorded++
		step := fmt.Sprintf("%s/%d", module, version)
		if by := applied[step]; len(by) != 1 {
			t.Errorf("migration %s was applied by %v, want exactly one instance", step, by)
		}
	}
	if recorded == 0 || len(applied) != recorded {
		t.Errorf("%d migrations recorded, %d logged as applied: they must match", recorded, len(applied))
	}
}

// A session made by logging in on one instance (API token) or through the
// front (browser cookie) is accepted by every instance directly and through
// the balancer; signing out on another instance ends it everywhere.
func testSessionsShared(t *testing.T, topo *local.Topology, front apiClient) {
	buyer, user := front.signUp(t, "traveller")
	var s apiSession
	front.at(topo.Instances[0].URL).must(t, http.MethodPost, "api/v1/auth/login",
		map[string]string{"email": user.Email, "password": testPassword}, http.StatusOK, &s)
	// Three requests in a row through the front: round robin sends one to
	// each instance.
	seenVia := map[string]bool{}
	for range 3 {
		var me apiUser
		res := front.as(s.Token).must(t, http.MethodGet, "api/v1/auth/me", nil, http.StatusOK, &me)
		if me.ID != user.ID {
			t.Errorf("through the front: /auth/me is user %d, want %d", me.ID, user.ID)
		}
		seenVia[res.Header.Get("X-Upstream-Addr")] = true
	}
	if len(seenVia) != 3 {
		t.Errorf("three requests through the front reached %v, want each of the three instances (round robin)", seenVia)
	}
	everywhere := []string{topo.URL, topo.BalancerURL}
	for _, in := range topo.Instances {
		everywhere = append(everywhere, in.URL)
	}
	for _, base := range everywhere {
		var me apiUser
		front.at(base).as(s.Token).must(t, http.MethodGet, "api/v1/auth/me", nil, http.StatusOK, &me)
		if me.ID != user.ID {
			t.Errorf("%s: /auth/me is user %d, want %d", base, me.ID, user.ID)
		}
	}

	cookie := browserLogin(t, topo, user.Email)
	for _, base := range everywhere {
		res, err := front.at(base).do(context.Background(), http.MethodGet, "api/v1/auth/me", nil, http.Header{"Cookie": {cookie}})
		if err != nil || res.Status != http.StatusOK {
			t.Errorf("%s: the browser's session cookie was refused: %v %d %.200s", base, err, res.Status, res.Body)
		}
	}

	buyer.at(topo.Instances[2].URL).must(t, http.MethodPost, "api/v1/auth/logout", nil, http.StatusNoContent, nil)
	for _, base := range everywhere {
		front.at(base).as(buyer.token).must(t, http.MethodGet, "api/v1/auth/me", nil, http.StatusUnauthorized, nil)
	}
}

// browserLogin logs in with the HTML form through the TLS front, as a
// browser does (CSRF cookie and field), and returns the Cookie header value.
// The session cookie must be Secure: the balancer passed on that the client
// used HTTPS.
func browserLogin(t *testing.T, topo *local.Topology, email string) string {
	t.Helper()
	client := topo.Client()
	resp, err := client.Get(topo.URL + "login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-bookstore_csrf" { // over HTTPS, the prefixed name only
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatal("the login page through the HTTPS front set no __Host-bookstore_csrf cookie")
	}
	// The form's token derives from the cookie's signed nonce; it is not the cookie.
	const field = `name="_csrf" value="`
	i := strings.Index(string(page), field)
	if i < 0 {
		t.Fatal("the login page has no CSRF field")
	}
	csrf := string(page[i+len(field):])
	csrf = csrf[:strings.IndexByte(csrf, '"')]
	form := url.Values{"email": {email}, "password": {testPassword}, "_csrf": {csrf}}
	req, _ := http.NewRequest(http.MethodPost, topo.URL+"login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", cookie)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-bookstore_session" && c.Value != "" {
			if !c.Secure {
				t.Error("the session cookie set through the HTTPS front is not Secure: X-Forwarded-Proto was lost on the way")
			}
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("the login form answered %s with no session cookie", resp.Status)
	return ""
}

// A cover uploaded through one instance is served, byte for byte, by every
// instance and through the front, and the book names it everywhere.
func testCoversShared(t *testing.T, topo *local.Topology, seller apiClient) {
	var b apiBook
	seller.must(t, http.MethodPost, "api/v1/books", map[string]any{"title": "Shared Shelves", "author": "A. Writer",
		"description": "A book whose cover lives on the shared uploads directory.", "price_cents": 1500, "stock": 3}, http.StatusCreated, &b)
	img := pngImage(t, 7)
	withCover := seller.at(topo.Instances[1].URL).uploadCover(t, b.ID, img)
	if withCover.CoverURL == "" {
		t.Fatal("the upload answered a book without cover_url")
	}
	var served []byte
	for _, base := range []string{topo.Instances[0].URL, topo.Instances[1].URL, topo.Instances[2].URL, topo.URL, topo.BalancerURL} {
		var got apiBook
		seller.at(base).must(t, http.MethodGet, fmt.Sprintf("api/v1/books/%d", b.ID), nil, http.StatusOK, &got)
		if got.CoverURL != withCover.CoverURL {
			t.Errorf("%s names cover %q, want %q", base, got.CoverURL, withCover.CoverURL)
		}
		path := strings.TrimPrefix(withCover.CoverURL, "/")
		res, err := seller.at(base).do(context.Background(), http.MethodGet, path, nil, nil)
		if err != nil || res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "image/") {
			t.Errorf("%s%s: %v %d %s", base, path, err, res.Status, res.Header.Get("Content-Type"))
			continue
		}
		if served == nil {
			served = res.Body
		} else if !bytes.Equal(served, res.Body) {
			t.Errorf("%s serves other bytes for %s", base, withCover.CoverURL)
		}
	}
}

// An operator's favicon on the shared directory (EFS in AWS) is what every
// instance serves, ahead of the one built in.
func testStaticShared(t *testing.T, topo *local.Topology, client apiClient, static string) {
	icon := []byte("\x00\x00\x01\x00 shared favicon")
	if err := os.WriteFile(filepath.Join(static, "favicon.ico"), icon, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{topo.Instances[0].URL, topo.Instances[1].URL, topo.Instances[2].URL, topo.URL} {
		res, err := client.at(base).do(context.Background(), http.MethodGet, "favicon.ico", nil, nil)
		if err != nil || res.Status != http.StatusOK || !bytes.Equal(res.Body, icon) {
			t.Errorf("%sfavicon.ico: %v %d, want the shared file", base, err, res.Status)
		}
	}
}
