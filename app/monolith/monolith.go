// Package monolith wires the whole store into one process: the database and
// its migrations, the auth, catalog and purchase modules talking in-process,
// the admin account, the demo data and the web server.
package monolith

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/seed"
	"github.com/tet-bookstore/bookstore/app/store"
	"github.com/tet-bookstore/bookstore/app/uploads"
	"github.com/tet-bookstore/bookstore/app/web"
)

// App is a running monolith, ready to serve.
type App struct {
	cfg config.Config
	log *slog.Logger
	db  *store.DB
	web *web.Server

	Auth     *auth.Accounts
	Catalog  *catalog.Catalog
	Purchase *purchase.Checkout
	sessions auth.Store

	closeOnce sync.Once
	closeErr  error
}

// New opens and migrates the database, makes sure the admin exists, seeds
// demo data when asked, and builds the web server. Its errors are one line,
// fit for the command to print as they are.
func New(ctx context.Context, cfg config.Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	db, err := store.Open(ctx, cfg.DBDSN)
	if err != nil {
		return nil, err
	}
	app, err := build(ctx, cfg, log, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return app, nil
}

func build(ctx context.Context, cfg config.Config, log *slog.Logger, db *store.DB) (*App, error) {
	if err := db.Migrate(ctx, store.AuthModule, store.CatalogModule, store.PurchaseModule); err != nil {
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	covers, err := uploads.NewCoverDir(cfg.UploadsDir)
	if err != nil {
		return nil, err
	}
	authStore := store.NewAuthStore(db)
	accounts := auth.New(authStore, auth.Options{BcryptCost: cfg.BcryptCost})
	books := catalog.New(store.NewCatalogStore(db), covers)
	// The catalog is the purchase module's Inventory in-process; the
	// purchase service will get an HTTP client of the catalog instead.
	checkout := purchase.New(store.NewPurchaseStore(db), books, purchase.NewSimulatedProcessor())

	admin, err := accounts.EnsureAdmin(ctx, "Administrator", cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return nil, fmt.Errorf("ensure admin %s: %w", cfg.AdminEmail, err)
	}
	log.Info("admin account ready", "email", admin.Email, "user_id", admin.ID)
	if cfg.SeedDemo {
		n, err := seed.Demo(ctx, seed.Deps{Auth: accounts, Catalog: books, Users: authStore, WithLock: db.WithLock})
		if err != nil {
			return nil, err
		}
		if n > 0 {
			log.Info("demo data seeded", "books", n)
		}
	}
	app := &App{cfg: cfg, log: log, db: db, Auth: accounts, Catalog: books, Purchase: checkout, sessions: authStore}
	app.web = web.New(web.Options{TrustedProxies: cfg.TrustedProxies}, web.Deps{
		Auth: accounts, Catalog: books, Purchase: checkout,
		Ready: db.Ping, DB: db.SQL(), CoversDir: covers.Path(), Logger: log,
	})
	return app, nil
}

// Handler is the whole store as an http.Handler.
func (a *App) Handler() http.Handler { return a.web.Handler() }

// DB is the open database (tests close it to see readiness fail).
func (a *App) DB() *store.DB { return a.db }

// SetDraining makes /readyz answer 503, as the first step of shutting down.
func (a *App) SetDraining() { a.web.SetDraining() }

// Serve answers requests on l until ctx is cancelled, then shuts down
// gracefully: readiness turns 503, the drain delay lets load balancers
// notice, the listener closes, in-flight requests get up to the shutdown
// timeout to finish, and the database is closed.
func (a *App) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	a.log.Info("serving", "addr", l.Addr().String())
	sweepDone := make(chan struct{})
	sweepCtx, stopSweep := context.WithCancel(ctx)
	go func() { defer close(sweepDone); a.sweepSessions(sweepCtx) }()
	endSweep := func() { stopSweep(); <-sweepDone } // before the database closes

	select {
	case err := <-served:
		endSweep()
		a.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.SetDraining()
	a.log.Info("shutting down: draining", "drain_delay", a.cfg.DrainDelay.String(), "timeout", a.cfg.ShutdownTimeout.String())
	if a.cfg.DrainDelay > 0 {
		time.Sleep(a.cfg.DrainDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	endSweep()
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	a.log.Info("stopped")
	return nil
}

// SessionSweepInterval is how often expired sessions are deleted. They are
// refused anyway once expired; sweeping only keeps the table small.
var SessionSweepInterval = time.Hour

// sweepSessions deletes expired sessions now and then every interval, until
// ctx ends. Several instances may sweep at once; the deletes are idempotent.
func (a *App) sweepSessions(ctx context.Context) {
	t := time.NewTicker(SessionSweepInterval)
	defer t.Stop()
	for {
		if err := a.sessions.DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			a.log.Warn("delete expired sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close closes the database; it is safe to call more than once.
func (a *App) Close() error {
	a.closeOnce.Do(func() { a.closeErr = a.db.Close() })
	return a.closeErr
}
