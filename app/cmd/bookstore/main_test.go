package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles the command once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bookstore")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runBinary(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	return out.String(), errb.String(), code
}

// TestStartupErrorsAreOneLine: a bad or unreachable DSN, or bad settings,
// exit 1 with one "bookstore: ..." line on stderr: no stack trace, no password.
func TestStartupErrorsAreOneLine(t *testing.T) {
	bin := buildBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().String()
	l.Close() // nothing listens there now

	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"unsupported scheme", []string{"BOOKSTORE_DB_DSN=postgres://u:hunter22@db/shop"}, "BOOKSTORE_DB_DSN"},
		{"unreachable MySQL", []string{"BOOKSTORE_DB_DSN=mysql://u:hunter22@" + closedPort + "/shop", "BOOKSTORE_ADMIN_PASSWORD=long-enough-pw"}, "mysql"},
		{"malformed MySQL DSN", []string{"BOOKSTORE_DB_DSN=mysql://u:hunter22@/shop", "BOOKSTORE_ADMIN_PASSWORD=long-enough-pw"}, "DSN"},
		{"SQLite path that is a directory", []string{"BOOKSTORE_DB_DSN=sqlite:/", "BOOKSTORE_ADMIN_PASSWORD=long-enough-pw"}, "sqlite"},
		{"several bad settings", []string{"BOOKSTORE_SEED_DEMO=maybe", "BOOKSTORE_LOG_LEVEL=loud", "BOOKSTORE_ADMIN_PASSWORD=hunter22x"}, "BOOKSTORE_LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"BOOKSTORE_ADDR=127.0.0.1:0", "BOOKSTORE_UPLOADS_DIR=" + t.TempDir()}, tt.env...)
			_, stderr, code := runBinary(t, bin, env, "serve")
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "bookstore: ") || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr is not one \"bookstore: ...\" line:\n%s", stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.want)
			}
			if strings.Contains(stderr, "hunter22") || strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Errorf("stderr leaks a password or a stack trace: %s", stderr)
			}
		})
	}
}

func TestVersionHelpAndUnknownCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "bookstore ") {
		t.Errorf("version = %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "bookstore [serve]") {
		t.Errorf("help = %d %q", code, out.String())
	}
	errb.Reset()
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command = %d %q", code, errb.String())
	}
}

// TestServeAndStopOnSIGTERM runs the real binary with no subcommand (serve
// is the default) on a fresh SQLite file: it answers, logs JSON to stdout,
// and exits 0 on SIGTERM.
func TestServeAndStopOnSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "BOOKSTORE_ADDR=" + addr, "BOOKSTORE_BCRYPT_COST=4", "BOOKSTORE_SEED_DEMO=true"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready; stderr: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "bookstore.db")); err != nil {
		t.Errorf("default database file: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v; stderr: %s", err, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop after SIGTERM")
	}
	if errb.Len() != 0 {
		t.Errorf("stderr while serving: %s", errb.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("stdout line is not JSON: %s", line)
		}
	}
	if !strings.Contains(out.String(), `"msg":"stopped"`) || !strings.Contains(out.String(), `"msg":"demo data seeded"`) {
		t.Errorf("log lacks start-up or shutdown lines:\n%s", out.String())
	}
}
