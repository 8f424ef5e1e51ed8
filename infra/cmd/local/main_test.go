package main

import (
	"bufio"
	"errors"
	"net"
	"net/url"
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

// started is a running `local` command that has printed its ready: line.
type started struct {
	cmd    *exec.Cmd
	output []string // stdout up to and including the ready: block
}

// startLocal builds the command and the stand-in app, runs them with args,
// and waits for the ready: line and the block after it.
func startLocal(t *testing.T, env []string, args ...string) *started {
	t.Helper()
	goBin := testenv.Tool(t, "go")
	testenv.Tool(t, "nginx")
	dir := t.TempDir()
	build(t, goBin, "./infra/cmd/local", filepath.Join(dir, "local"))
	build(t, goBin, "./infra/local/testdata/fakeapp", filepath.Join(dir, "app"))

	cmd := exec.Command(filepath.Join(dir, "local"), append(args, "--binary", filepath.Join(dir, "app"))...)
	cmd.Env = append(append(os.Environ(), "LOCAL_HTTPS_PORT="+freePort(t), "LOCAL_HTTP_PORT="+freePort(t)), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	ready := make(chan []string, 1)
	go func() {
		var lines []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			// The block after ready: ends with the certificate note.
			if strings.HasPrefix(sc.Text(), "(certificate") {
				ready <- lines
			}
		}
	}()
	select {
	case lines := <-ready:
		if !strings.HasPrefix(lines[0], "ready: https://objective") {
			t.Fatalf("the first line must be ready: URL, got %q", lines[0])
		}
		return &started{cmd: cmd, output: lines}
	case <-time.After(90 * time.Second):
		t.Fatal("no ready: line within 90 s")
	}
	return nil
}

// terminate sends SIGTERM and checks the command exits 0 with every child's
// process group gone.
func (s *started) terminate(t *testing.T, kids []int) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
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

// The command prints ready: and, on SIGTERM, stops every child's process
// group before exiting.
func TestSIGTERMStopsEveryChild(t *testing.T) {
	s := startLocal(t, nil, "--objective", "1")
	if !strings.HasPrefix(s.output[0], "ready: https://objective1.localhost:") {
		t.Errorf("ready line %q", s.output[0])
	}
	kids := childrenOf(s.cmd.Process.Pid)
	if len(kids) != 2 {
		t.Fatalf("want the app and nginx as children, found %v", kids)
	}
	s.terminate(t, kids)
}

// Objective 2 runs three instances and NGINX, names the database it
// created, and on SIGTERM stops them all and drops that database.
func TestObjective2SIGTERMStopsEveryChildAndDropsItsDatabase(t *testing.T) {
	testenv.MySQL(t) // skips, or fails under CI, without a server
	server, err := url.Parse(os.Getenv("BOOKSTORE_TEST_MYSQL_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	server.Path = "/"
	s := startLocal(t, []string{"LOCAL_MYSQL_DSN=" + server.String()}, "--objective", "2")
	if !strings.HasPrefix(s.output[0], "ready: https://objective2.localhost:") {
		t.Errorf("ready line %q", s.output[0])
	}
	var database string
	instances := 0
	for _, line := range s.output {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "database: "); ok {
			database, _, _ = strings.Cut(rest, " ")
		}
		if strings.HasPrefix(strings.TrimSpace(line), "instance app") {
			instances++
		}
	}
	if database == "" || instances != 3 {
		t.Fatalf("want three instances and the database named, got:\n%s", strings.Join(s.output, "\n"))
	}
	kids := childrenOf(s.cmd.Process.Pid)
	if len(kids) != 4 {
		t.Fatalf("want three instances and nginx as children, found %v", kids)
	}
	s.terminate(t, kids)
	out, err := exec.Command(testenv.Tool(t, "mysql", "mariadb"), "-h"+server.Hostname(), "-P"+server.Port(), "-u"+server.User.Username(), "-N", "-e",
		"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '"+database+"'").CombinedOutput()
	if err != nil {
		t.Fatalf("mysql: %v %s", err, out)
	}
	if strings.TrimSpace(string(out)) != "0" {
		t.Errorf("database %s survived the command", database)
	}
}

// Without a reachable MariaDB, objective 2 exits 1 with one readable line.
func TestObjective2WithoutMariaDBSaysSoInOneLine(t *testing.T) {
	goBin := testenv.Tool(t, "go")
	testenv.Tool(t, "nginx")
	dir := t.TempDir()
	build(t, goBin, "./infra/cmd/local", filepath.Join(dir, "local"))
	cmd := exec.Command(filepath.Join(dir, "local"), "--objective", "2", "--binary", "/nonexistent")
	closed := freePort(t)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BOOKSTORE_") { // a developer's database would be used as it is
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "LOCAL_MYSQL_DSN=mysql://root:@127.0.0.1:"+closed+"/")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit status 1, got %v", err)
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "local: MariaDB/MySQL at 127.0.0.1:"+closed+" is not reachable") {
		t.Errorf("want one line saying MariaDB is not reachable, got %q", msg)
	}
}

// Objective 3 prints the three services, the gateway and where their
// databases live (one per service, created for the run), and on SIGTERM
// stops the services and NGINX and drops those databases.
func TestObjective3PrintsTheServicesAndStopsEverything(t *testing.T) {
	testenv.MySQL(t) // skips, or fails under CI, without a server
	server, err := url.Parse(os.Getenv("BOOKSTORE_TEST_MYSQL_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	server.Path = "/"
	s := startLocal(t, []string{"LOCAL_MYSQL_DSN=" + server.String()}, "--objective", "3")
	if !strings.HasPrefix(s.output[0], "ready: https://objective3.localhost:") {
		t.Errorf("ready line %q", s.output[0])
	}
	services, gateway := map[string]bool{}, ""
	var databases []string
	for _, line := range s.output {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "service "); ok {
			name, _, _ := strings.Cut(rest, ":")
			services[name] = true
		}
		if rest, ok := strings.CutPrefix(line, "gateway: "); ok {
			gateway, _, _ = strings.Cut(rest, " ")
		}
		if rest, ok := strings.CutPrefix(line, "storage: MariaDB/MySQL at "); ok {
			_, list, _ := strings.Cut(rest, "databases ")
			list, _, _ = strings.Cut(list, " (")
			databases = strings.Split(list, ", ")
		}
	}
	if len(services) != 3 || !services["auth"] || !services["catalog"] || !services["purchase"] ||
		!strings.HasPrefix(gateway, "http://127.0.0.1:") || len(databases) != 3 {
		t.Fatalf("want auth, catalog, purchase, the gateway and three databases named, got:\n%s", strings.Join(s.output, "\n"))
	}
	mysql := testenv.Tool(t, "mysql", "mariadb")
	exists := func(db string) bool {
		out, err := exec.Command(mysql, "-h"+server.Hostname(), "-P"+server.Port(), "-u"+server.User.Username(), "-N", "-e",
			"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '"+db+"'").CombinedOutput()
		if err != nil {
			t.Fatalf("mysql: %v %s", err, out)
		}
		return strings.TrimSpace(string(out)) != "0"
	}
	for _, db := range databases {
		if !exists(db) {
			t.Errorf("database %s was named but does not exist", db)
		}
	}
	kids := childrenOf(s.cmd.Process.Pid)
	if len(kids) != 4 {
		t.Fatalf("want three services and nginx as children, found %v", kids)
	}
	s.terminate(t, kids)
	for _, db := range databases {
		if exists(db) {
			t.Errorf("database %s survived the command", db)
		}
	}
}
