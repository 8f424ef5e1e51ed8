package image_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/web/apitest"
	"github.com/tet-bookstore/bookstore/infra/image"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// maxImageBytes keeps the image a static binary on a scratch-like base.
const maxImageBytes = 40 << 20

// The root Dockerfile, built by the real engine, runs the store as uid
// 65532 on SQLite and on MySQL: the contract suite passes against the
// container, covers land in the /data volume, the image's exec-form
// healthcheck turns the container healthy, and SIGTERM drains (/readyz 503)
// before the process exits 0.
func TestImage(t *testing.T) {
	testenv.Docker(t)
	ctx := context.Background()
	tag := "bookstore-test:" + randomHex(t)
	var log bytes.Buffer
	if err := image.Build(ctx, tag, "dev", &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Cleanup(func() { _, _ = image.Docker(context.Background(), "", "rmi", tag) })

	out := docker(t, "image", "inspect", "-f", "{{.Size}} {{.Config.User}}", tag)
	size, user, _ := strings.Cut(out, " ")
	if n, _ := strconv.Atoi(size); n <= 0 || n > maxImageBytes {
		t.Errorf("image is %s bytes, want at most %d", size, maxImageBytes)
	}
	if user != "65532:65532" {
		t.Errorf("image runs as %q, want 65532:65532", user)
	}
	t.Logf("image %s: %s bytes", tag, size)

	tests := []struct {
		name string
		dsn  func(testing.TB) string // "" for the image's default, SQLite in /data
	}{
		{"SQLite", func(testing.TB) string { return "" }},
		{"MySQL", testenv.MySQL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The API suite signs up many accounts from one address.
			env := []string{"BOOKSTORE_ADMIN_PASSWORD=container-admin-pw", "BOOKSTORE_DRAIN_DELAY=3s", "BOOKSTORE_SIGNUPS_PER_ADDRESS=10000"}
			if dsn := tc.dsn(t); dsn != "" {
				env = append(env, "BOOKSTORE_DB_DSN="+dsn)
			}
			c := start(t, tag, env)
			if uid := c.uid(t); uid != "65532" {
				t.Errorf("bookstore serve runs as uid %s, want 65532", uid)
			}
			apitest.Run(t, c.base, "admin@bookstore.local", "container-admin-pw")
			covers, err := filepath.Glob(filepath.Join(c.volumeDir(t), "uploads", "*"))
			if err != nil || len(covers) == 0 {
				t.Errorf("no cover in the /data volume's uploads/ after the suite uploaded some (%v)", err)
			}
			if out, err := image.Docker(ctx, "", "exec", c.name, "/usr/local/bin/bookstore", "healthcheck"); err != nil {
				t.Errorf("bookstore healthcheck inside the container: %v %s", err, out)
			}
			c.waitHealthy(t)
			c.stopDrains(t)
		})
	}
}

type container struct {
	name, volume, base string
}

// start runs `bookstore serve` from tag on the host's network (MySQL is the
// host's 127.0.0.1:3306) on a free port, with a named volume on /data.
func start(t *testing.T, tag string, env []string) *container {
	t.Helper()
	port := freePort(t)
	c := &container{name: "bookstore-test-" + randomHex(t)}
	c.volume = c.name + "-data"
	c.base = "http://127.0.0.1:" + strconv.Itoa(port)
	args := []string{"run", "-d", "--name", c.name, "--network", "host", "-v", c.volume + ":/data",
		"-e", "BOOKSTORE_ADDR=127.0.0.1:" + strconv.Itoa(port)}
	for _, kv := range env {
		args = append(args, "-e", kv)
	}
	docker(t, append(args, tag, "serve")...)
	t.Cleanup(func() {
		ctx := context.Background()
		if t.Failed() {
			logs, _ := image.Docker(ctx, "", "logs", "--tail", "50", c.name)
			t.Logf("container logs:\n%s", logs)
		}
		_, _ = image.Docker(ctx, "", "rm", "-f", c.name)
		_, _ = image.Docker(ctx, "", "volume", "rm", c.volume)
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		if res, err := http.Get(c.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready in 90s", c.base)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// uid is the real uid of the container's main process, as the host sees it.
func (c *container) uid(t *testing.T) string {
	t.Helper()
	pid := docker(t, "inspect", "-f", "{{.State.Pid}}", c.name)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatalf("read the container's process status: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	t.Fatalf("no Uid line in /proc/%s/status", pid)
	return ""
}

func (c *container) volumeDir(t *testing.T) string {
	t.Helper()
	return docker(t, "volume", "inspect", "-f", "{{.Mountpoint}}", c.volume)
}

// waitHealthy waits for the engine to run the image's own HEALTHCHECK.
func (c *container) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		status := docker(t, "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", c.name)
		if status == "healthy" {
			return
		}
		if status == "" || status == "unhealthy" || time.Now().After(deadline) {
			t.Fatalf("the image's healthcheck says %q, want healthy", status)
		}
		time.Sleep(time.Second)
	}
}

// stopDrains sends SIGTERM: /readyz turns 503 while the process drains,
// and it exits 0.
func (c *container) stopDrains(t *testing.T) {
	t.Helper()
	docker(t, "kill", "--signal", "TERM", c.name)
	drained := false
	for i := 0; i < 20 && !drained; i++ {
		if res, err := http.Get(c.base + "/readyz"); err == nil {
			res.Body.Close()
			drained = res.StatusCode == http.StatusServiceUnavailable
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !drained {
		t.Error("/readyz never answered 503 after SIGTERM: no drain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err := image.Docker(ctx, "", "wait", c.name)
	if err != nil || code != "0" {
		t.Errorf("after SIGTERM the container exited %q (%v), want 0", code, err)
	}
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := image.Docker(ctx, "", args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
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

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
