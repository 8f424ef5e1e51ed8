package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       float64
		wantErr    bool
	}{
		{"plain", "42 (bookstore) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 100 0", 3250, false},
		{"name with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0", 70, false},
		{"no name", "7 a R 1", 0, true},
		{"short", "7 (x) R 1 2 3", 0, true},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 4 0 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU(tt.stat)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCPUMSOfThisProcess(t *testing.T) {
	before, err := cpuMS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	}
	after, err := cpuMS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Fatalf("CPU time did not grow while spinning: %v then %v", before, after)
	}
}

func TestListenerPIDIn(t *testing.T) {
	proc := t.TempDir()
	mk := func(rel, content string) {
		t.Helper()
		p := filepath.Join(proc, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(pid, fd, target string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(proc, pid, "fd"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(proc, pid, "fd", fd)); err != nil {
			t.Fatal(err)
		}
	}
	header := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	mk("net/tcp", header+
		"   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0\n"+ // 3306 listening
		"   1: 0100007F:0CEA 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 100 0 0 10 0\n"+ // 3306 established
		"   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0 100 0 0 10 0\n") // 8080
	link("869", "3", "socket:[333]")  // another server, on 8080
	link("900", "7", "socket:[222]")  // a client of 3306
	link("3816", "9", "socket:[111]") // the database
	if got := listenerPIDIn(proc, 3306); got != 3816 {
		t.Fatalf("listener of 3306 = %d, want 3816", got)
	}
	if got := listenerPIDIn(proc, 3307); got != 0 {
		t.Fatalf("nobody listens on 3307, found %d", got)
	}
}

func TestLoadIsBoundedByCountAndTime(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Path == "/slow" {
			time.Sleep(20 * time.Millisecond)
		}
	}))
	defer srv.Close()
	c := newClient(4)
	page := func(path string) op {
		return func(ctx context.Context, c *http.Client, _, _ int) error { return get(ctx, c, srv.URL+path) }
	}
	r := load(c, page("/"), time.Minute, 4, 50)
	if r.count != 50 || r.errors != 0 || served.Load() != 50 {
		t.Fatalf("count-bounded run: %d ok, %d errors, %d served; want 50, 0, 50", r.count, r.errors, served.Load())
	}
	start := time.Now()
	r = load(c, page("/slow"), 200*time.Millisecond, 2, 1_000_000)
	if took := time.Since(start); took > 2*time.Second || r.count == 0 || r.count > 40 {
		t.Fatalf("time-bounded run took %s with %d operations", took, r.count)
	}
	if r.pct(50) < 20*time.Millisecond || r.pct(99) < r.pct(50) {
		t.Fatalf("percentiles p50 %s p99 %s", r.pct(50), r.pct(99))
	}
}

func TestLoadCountsFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	do := func(ctx context.Context, c *http.Client, _, _ int) error { return get(ctx, c, srv.URL) }
	r := load(newClient(2), do, time.Minute, 2, 10)
	if r.count != 0 || r.errors != 10 || !strings.Contains(errSummary(r), "status 500") {
		t.Fatalf("%d ok, %d errors, summary %q", r.count, r.errors, errSummary(r))
	}
}

func TestReportRoundTripAndCompare(t *testing.T) {
	a := Report{Date: "2026-12-02T03:00:00Z", Rows: []Row{
		{DB: "mysql", Target: "catalog-html", OpsPerSec: 1000, P99MS: 10, AppCPUMS: 0.6, DBCPUMS: 0.4},
		{DB: "sqlite", Target: "book", OpsPerSec: 5000, AppCPUMS: 0.1, DBCPUMS: -1},
	}}
	b := Report{Rows: []Row{
		{DB: "mysql", Target: "catalog-html", OpsPerSec: 1500, P99MS: 5, AppCPUMS: 0.3, DBCPUMS: 0.2},
		{DB: "mysql", Target: "buy-pay", OpsPerSec: 300},
	}}
	path := filepath.Join(t.TempDir(), "a.json")
	if err := writeReport(path, a); err != nil {
		t.Fatal(err)
	}
	got, err := readReport(path)
	if err != nil || len(got.Rows) != 2 || got.Rows[1].DBCPUMS != -1 || got.Rows[0].TotalCPUMS() != 1.0 {
		t.Fatalf("read back %+v, %v", got, err)
	}
	var out bytes.Buffer
	if n := compare(&out, got, b); n != 1 {
		t.Fatalf("compared %d rows, want the 1 in common:\n%s", n, out.String())
	}
	for _, want := range []string{"catalog-html", "+50.0%", "-50.0%", "1.000", "0.500"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("compare output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestMySQLBenchDBRejectsBadDSN(t *testing.T) {
	for _, dsn := range []string{"", "sqlite:x.db", "mysql://127.0.0.1:3306/"} {
		if _, _, err := mysqlBenchDB(dsn); err == nil {
			t.Errorf("mysqlBenchDB(%q) accepted it", dsn)
		}
	}
	for dsn, want := range map[string]int{"mysql://root:@127.0.0.1:3307/": 3307, "mysql://root:@localhost/": 3306,
		"mysql://u:p@db.example.com:3306/": 0, "mysql://u:p@[::1]:3306/": 3306} {
		if got := loopbackPort(dsn); got != want {
			t.Errorf("loopbackPort(%q) = %d, want %d", dsn, got, want)
		}
	}
}
