package nginxtest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/infra/nginx"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// FreeAddr is a loopback HOST:PORT nothing listens on right now.
func FreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Run starts the real NGINX in the foreground with conf (blocks for the
// http context) and returns once it accepts connections on listen; the test's
// cleanup stops it. Outside CI a missing nginx skips the test.
func Run(t *testing.T, conf, listen string) {
	t.Helper()
	bin := testenv.Tool(t, "nginx")
	// Started as root, the workers run as nobody: their prefix must be
	// reachable, which t.TempDir's 0700 parents are not.
	prefix, err := os.MkdirTemp("", "nginxtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(prefix) })
	for _, d := range []string{prefix, filepath.Join(prefix, "logs"), filepath.Join(prefix, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sites := filepath.Join(prefix, "sites.conf")
	main, err := nginx.RenderMain(nginx.Main{Prefix: prefix, SitesFile: sites, Foreground: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sites, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prefix, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", prefix+"/", "-c", filepath.Join(prefix, "nginx.conf"), "-e", filepath.Join(prefix, "logs", "error.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &strings.Builder{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", listen, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case werr := <-exited:
			t.Fatalf("nginx exited (%v):\n%s\n--- conf ---\n%s", werr, out, conf)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s: %v\n%s", listen, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
