// Package serve runs one of the store's HTTP processes — the monolith or a
// service — from its first request to a graceful stop, the same way for all:
// readiness turns 503, the drain delay lets load balancers notice, the
// listener closes, in-flight requests get the shutdown timeout to finish,
// background jobs stop, and only then is the database closed.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Options says what to serve and how to stop.
type Options struct {
	Handler         http.Handler
	Log             *slog.Logger
	DrainDelay      time.Duration
	ShutdownTimeout time.Duration
	// SetDraining makes /readyz answer 503 (first step of shutting down).
	SetDraining func()
	// Background jobs run while serving; their context ends before Close.
	Background []func(ctx context.Context)
	// Close releases what the process holds (the database), last.
	Close func() error
	// Metrics, when not nil, is the listener MetricsHandler (/metrics)
	// answers on, apart from the public one; it stops with it.
	Metrics        net.Listener
	MetricsHandler http.Handler
}

// ListenMetrics opens the metrics listener at addr; "" or "off" opens none.
func ListenMetrics(addr string) (net.Listener, error) {
	if addr == "" || addr == "off" {
		return nil, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s (BOOKSTORE_METRICS_ADDR): %w", addr, err)
	}
	return l, nil
}

// Run answers requests on l until ctx is cancelled, then shuts down.
func Run(ctx context.Context, l net.Listener, o Options) error {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	srv := &http.Server{
		Handler:           o.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	log.Info("serving", "addr", l.Addr().String())
	if o.Metrics != nil {
		msrv := &http.Server{Handler: o.MetricsHandler, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() { _ = msrv.Serve(o.Metrics) }()
		defer msrv.Close() // scraped to the end: it goes with the process
		log.Info("serving metrics", "addr", o.Metrics.Addr().String())
	}

	jobsCtx, stopJobs := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	for _, job := range o.Background {
		jobs.Add(1)
		go func() { defer jobs.Done(); job(jobsCtx) }()
	}
	endJobs := func() { stopJobs(); jobs.Wait() } // before the database closes
	closeAll := func() error {
		endJobs()
		if o.Close != nil {
			return o.Close()
		}
		return nil
	}

	select {
	case err := <-served:
		_ = closeAll()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if o.SetDraining != nil {
		o.SetDraining()
	}
	log.Info("shutting down: draining", "drain_delay", o.DrainDelay.String(), "timeout", o.ShutdownTimeout.String())
	if o.DrainDelay > 0 {
		time.Sleep(o.DrainDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if cerr := closeAll(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	log.Info("stopped")
	return nil
}

// Every turns fn into a background job that runs now and then every
// interval until its context ends.
func Every(interval time.Duration, fn func(ctx context.Context)) func(ctx context.Context) {
	return func(ctx context.Context) {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			fn(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
}
