package monolith_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/store"
)

// TestGracefulShutdown: once shutdown starts, readiness turns 503 during the
// drain delay while requests are still answered; a request in flight when
// the listener closes still gets its answer; then Serve returns and the
// database is closed.
func TestGracefulShutdown(t *testing.T) {
	cfg := testConfig(t)
	cfg.DrainDelay = 400 * time.Millisecond
	app := newApp(t, cfg)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, l) }()
	waitStatus(t, base+"/readyz", http.StatusOK)

	// An in-flight request: its body arrives slowly, across the shutdown.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", base+"/api/v1/auth/register", pr)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		status int
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		res.Body.Close()
		inflight <- result{status: res.StatusCode}
	}()
	if _, err := pw.Write([]byte(`{"name":"Late Larry",`)); err != nil {
		t.Fatal(err)
	}

	cancel() // SIGTERM
	time.Sleep(100 * time.Millisecond)
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatalf("/readyz during the drain delay: %v (the listener must stay open)", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the drain delay = %d, want 503", res.StatusCode)
	}

	time.Sleep(cfg.DrainDelay) // now the listener closes and Shutdown waits for the in-flight request
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	default:
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("new connections are still accepted after the drain delay")
	}
	if _, err := fmt.Fprint(pw, `"email":"larry@example.com","password":"correct horse battery"}`); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r := <-inflight
	if r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("in-flight request = %d, %v; want 201", r.status, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the in-flight request finished")
	}
	if err := app.DB().Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("database after shutdown: ping = %v, want closed", err)
	}
}

func waitStatus(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == want {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d", url, want)
}

// TestServeSweepsExpiredSessions: expired sessions are deleted while the
// app serves; live ones stay.
func TestServeSweepsExpiredSessions(t *testing.T) {
	app := newApp(t, testConfig(t))
	ctx := context.Background()
	u, err := app.Auth.Register(ctx, authInput("sweep@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	sessions := store.NewAuthStore(app.DB())
	now := time.Now().UTC()
	for i, exp := range []time.Time{now.Add(-time.Hour), now.Add(-time.Minute), now.Add(time.Hour)} {
		if err := sessions.CreateSession(ctx, auth.StoredSession{TokenHash: auth.HashToken(fmt.Sprint("t", i)), UserID: u.ID, ExpiresAt: exp, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n int) {
		if err := app.DB().SQL().QueryRow("SELECT COUNT(*) FROM sessions").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count() != 3 {
		t.Fatalf("sessions before serving = %d", count())
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- app.Serve(sctx, l) }()
	deadline := time.Now().Add(10 * time.Second)
	for count() != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := count(); n != 1 {
		t.Errorf("sessions while serving = %d, want only the live one", n)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
}
