package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/internal/testenv"
)

func build(t *testing.T, goBin, pkg, out string) {
	t.Helper()
	cmd := exec.Command(goBin, "build", "-o", out, pkg)
	cmd.Dir = "../../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	var kids []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			n, _ := strconv.Atoi(strings.Split(f, "/")[2])
			kids = append(kids, n)
		}
	}
	return kids
}

// The command prints ready: and, on SIGTERM, stops every child's process
// group before exiting.
func TestSIGTERMStopsEveryChild(t *testing.T) {
	goBin := testenv.Tool(t, "go")
	testenv.Tool(t, "nginx")
	dir := t.TempDir()
	build(t, goBin, "./infra/cmd/local", filepath.Join(dir, "local"))
	build(t, goBin, "./infra/local/testdata/fakeapp", filepath.Join(dir, "app"))

	cmd := exec.Command(filepath.Join(dir, "local"), "--objective", "1", "--binary", filepath.Join(dir, "app"))
	cmd.Env = append(os.Environ(), "LOCAL_HTTPS_PORT="+freePort(t), "LOCAL_HTTP_PORT="+freePort(t))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready: https://objective1.localhost:") {
				ready <- sc.Text()
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(90 * time.Second):
		t.Fatal("no ready: line within 90 s")
	}
	kids := childrenOf(cmd.Process.Pid)
	if len(kids) != 2 {
		t.Fatalf("want the app and nginx as children, found %v", kids)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("local exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("local did not exit within 30 s of SIGTERM")
	}
	for _, pid := range kids {
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d survived SIGTERM (kill 0: %v)", pid, err)
		}
	}
}
