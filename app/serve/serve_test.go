package serve_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/serve"
)

// The metrics listener answers beside the main one and stops with it.
func TestRunServesMetricsOnTheirOwnListener(t *testing.T) {
	main, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := serve.ListenMetrics("127.0.0.1:0")
	if err != nil || metrics == nil {
		t.Fatalf("ListenMetrics: %v %v", metrics, err)
	}
	if l, err := serve.ListenMetrics("off"); l != nil || err != nil {
		t.Errorf(`ListenMetrics("off") = %v, %v; want no listener`, l, err)
	}
	answer := func(body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, main, serve.Options{Handler: answer("store"), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			ShutdownTimeout: time.Second, Metrics: metrics, MetricsHandler: answer("metrics")})
	}()
	get := func(l net.Listener) (string, error) {
		res, err := http.Get("http://" + l.Addr().String() + "/metrics")
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return string(b), err
	}
	var got string
	for i := 0; i < 50; i++ {
		if got, err = get(metrics); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got != "metrics" {
		t.Fatalf("metrics listener answered %q (%v)", got, err)
	}
	if got, _ := get(main); got != "store" {
		t.Errorf("main listener answered %q", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := get(metrics); err == nil {
		t.Error("the metrics listener still answers after Run returned")
	}
}
