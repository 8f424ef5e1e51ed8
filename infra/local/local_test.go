package local_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/infra/local"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// appBinary is the `bookstore` binary under test: BOOKSTORE_TEST_BINARY
// when set (e.g. bin/bookstore from make build), else the real app built
// into a temporary directory; while app/cmd/bookstore has no Go files yet it
// builds the stand-in that honours the same contract instead.
func appBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("BOOKSTORE_TEST_BINARY"); bin != "" {
		return bin
	}
	goBin := testenv.Tool(t, "go")
	pkg := "./app/cmd/bookstore"
	if files, _ := filepath.Glob("../../app/cmd/bookstore/*.go"); len(files) == 0 {
		t.Logf("app/cmd/bookstore is not written yet: rehearsing with infra/local/testdata/fakeapp")
		pkg = "./infra/local/testdata/fakeapp"
	}
	bin := filepath.Join(t.TempDir(), "bookstore")
	cmd := exec.Command(goBin, "build", "-o", bin, pkg)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// The store answers over HTTPS through the local NGINX, HTTP redirects,
// HSTS is set, an objective without backend answers 503, and Stop leaves
// no process behind.
func TestRehearsalServesTheStoreThroughNginx(t *testing.T) {
	nginxBin := testenv.Tool(t, "nginx")
	bin := appBinary(t)
	httpsPort, httpPort := freePort(t), freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topo, err := local.Start(ctx, local.Options{
		Objective: 1, Binary: bin, NginxBin: nginxBin, HTTPSPort: httpsPort, HTTPPort: httpPort,
		Dir: t.TempDir(), Environ: append(os.Environ(), "BOOKSTORE_SEED_DEMO=true"), Log: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			topo.Stop()
		}
	}()
	c := topo.Client()

	resp, _ := get(t, c, topo.URL+"healthz")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz through NGINX: %s", resp.Status)
	}
	if resp.Header.Get("Server") != "nginx" {
		t.Errorf("the answer did not come through NGINX (Server=%q)", resp.Header.Get("Server"))
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=31536000") {
		t.Errorf("HSTS missing: %q", hsts)
	}
	if resp, _ := get(t, c, topo.URL); resp.StatusCode >= 500 {
		t.Errorf("the store's home page through NGINX: %s", resp.Status)
	}

	resp, _ = get(t, c, topo.HTTPURL+"books?page=2")
	want := topo.URL + "books?page=2"
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
		t.Errorf("HTTP must redirect to %s, got %s %q", want, resp.Status, resp.Header.Get("Location"))
	}

	url2 := strings.Replace(topo.URL, "objective1.", "objective2.", 1)
	resp, body := get(t, c, url2)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "is not deployed") {
		t.Errorf("objective2 without backend: want the 503 page, got %s %q", resp.Status, body)
	}

	pids := topo.PIDs()
	topo.Stop()
	stopped = true
	for _, pid := range pids {
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still has processes after Stop (kill 0: %v)", pid, err)
		}
	}
	if _, err := c.Get(topo.URL + "healthz"); err == nil {
		t.Error("NGINX still answers after Stop")
	}
}

// Every BOOKSTORE_* of the environment reaches the app, except the address
// NGINX relies on; the rehearsal's defaults fill the rest.
func TestAppEnvPassesBookstoreVariablesThrough(t *testing.T) {
	env := local.AppEnv([]string{
		"PATH=/usr/bin", "BOOKSTORE_ADMIN_EMAIL=a@b.c", "BOOKSTORE_SEED_DEMO=true", "BOOKSTORE_ADDR=0.0.0.0:80",
	}, "127.0.0.1:4000", "sqlite:/tmp/x.db", "/tmp/up")
	for _, want := range []string{
		"BOOKSTORE_ADMIN_EMAIL=a@b.c", "BOOKSTORE_SEED_DEMO=true", "PATH=/usr/bin",
		"BOOKSTORE_ADDR=127.0.0.1:4000", "BOOKSTORE_DB_DSN=sqlite:/tmp/x.db", "BOOKSTORE_UPLOADS_DIR=/tmp/up",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("app environment lacks %s: %v", want, env)
		}
	}
	if slices.Contains(env, "BOOKSTORE_ADDR=0.0.0.0:80") {
		t.Error("the caller's BOOKSTORE_ADDR must not override the rehearsal's")
	}
	own := local.AppEnv([]string{"BOOKSTORE_DB_DSN=mysql://root:@127.0.0.1:3306/x"}, "127.0.0.1:1", "sqlite:/y", "/u")
	if slices.Contains(own, "BOOKSTORE_DB_DSN=sqlite:/y") {
		t.Error("a BOOKSTORE_DB_DSN from the environment must win over the SQLite default")
	}
}

func TestAnObjectiveWithoutRehearsalSaysSo(t *testing.T) {
	_, err := local.Start(context.Background(), local.Options{Objective: 4, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "objective 4 has no local rehearsal") {
		t.Errorf("objective 4 has no rehearsal and must say so, got %v", err)
	}
}
