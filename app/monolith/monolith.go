// Package monolith wires the whole store into one process: the database and
// its migrations, the auth, catalog and purchase modules talking in-process,
// the admin account, the demo data and the web server.
package monolith

import (
	"context"
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
	"github.com/tet-bookstore/bookstore/app/serve"
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
	limiter  *store.LoginLimiter

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
	if err := db.Migrate(ctx, store.AuthModule, store.CatalogModule, store.PurchaseModule, store.KeysModule, store.QuotaModule); err != nil {
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	covers, err := uploads.NewCoverDir(cfg.UploadsDir)
	if err != nil {
		return nil, err
	}
	static, err := uploads.SharedStaticDir(cfg.UploadsDir)
	if err != nil {
		return nil, err
	}
	authStore := store.NewAuthStore(db)
	limits := auth.DefaultLimits
	limits.SignupsPerAddress = cfg.Signups()
	limiter := store.NewLoginLimiter(db, limits)
	accounts := auth.New(authStore, auth.Options{BcryptCost: cfg.BcryptCost, Limiter: limiter})
	books := catalog.New(store.NewCatalogStore(db), uploads.NewCovers(covers, uploads.CoversOptions{}))
	books.SetQuotas(store.NewQuotaCounter(db), catalog.QuotaLimits{BooksPerHour: cfg.MaxBooksPerHour, UploadBytesPerHour: cfg.MaxUploadBytesPerHour})
	// The catalog is the purchase module's Inventory in-process; the
	// purchase service will get an HTTP client of the catalog instead.
	checkout := purchase.New(store.NewPurchaseStore(db), books, purchase.NewSimulatedProcessor())
	_, reconcileAfter := cfg.Reconciling()
	checkout.SetReconcileAfter(reconcileAfter)
	window, maxOpen := cfg.Orders()
	checkout.SetPaymentWindow(window)
	checkout.SetMaxOpenOrders(maxOpen)

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
	// Every instance on the database signs CSRF tokens with the same key.
	csrfKey := cfg.CSRFKey()
	if csrfKey == nil {
		if csrfKey, err = db.ServerKey(ctx, "csrf"); err != nil {
			return nil, err
		}
	}
	app := &App{cfg: cfg, log: log, db: db, Auth: accounts, Catalog: books, Purchase: checkout, sessions: authStore, limiter: limiter}
	app.web = web.New(web.Options{TrustedProxies: cfg.TrustedProxies, HTTPSOnly: cfg.HTTPSOnly, CSRFKey: csrfKey,
		HSTS: cfg.HSTS, SeparateMetrics: cfg.MetricsAddr != ""}, web.Deps{
		Auth: accounts, Catalog: books, Purchase: checkout,
		Ready: db.Ready, DB: db.SQL(), CoversDir: covers.Path(), StaticDir: static, Logger: log,
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
// gracefully (see package serve) and closes the database. Meanwhile expired
// sessions are swept and reservations a crash left pending are reconciled.
func (a *App) Serve(ctx context.Context, l net.Listener) error {
	reconcileEvery, _ := a.cfg.Reconciling()
	metrics, err := serve.ListenMetrics(a.cfg.MetricsAddr)
	if err != nil {
		a.Close()
		return err
	}
	return serve.Run(ctx, l, serve.Options{
		Handler: a.Handler(), Log: a.log, DrainDelay: a.cfg.DrainDelay, ShutdownTimeout: a.cfg.ShutdownTimeout,
		SetDraining: a.SetDraining, Close: a.Close, Metrics: metrics, MetricsHandler: a.web.MetricsHandler(),
		Background: []func(context.Context){
			serve.Every(SessionSweepInterval, a.sweepSessions),
			serve.Every(reconcileEvery, a.reconcile),
		},
	})
}

// SessionSweepInterval is how often expired sessions are deleted. They are
// refused anyway once expired; sweeping only keeps the table small.
var SessionSweepInterval = time.Hour

// sweepSessions deletes expired sessions and failed-login counts whose
// window passed. Several instances may sweep at once; the deletes are
// idempotent.
func (a *App) sweepSessions(ctx context.Context) {
	if err := a.sessions.DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
		a.log.Warn("delete expired sessions", "err", err)
	}
	if err := a.limiter.Sweep(ctx, time.Now()); err != nil && ctx.Err() == nil {
		a.log.Warn("delete old failed-login counts", "err", err)
	}
	if err := store.NewQuotaCounter(a.db).Sweep(ctx, time.Now(), catalog.QuotaWindow); err != nil && ctx.Err() == nil {
		a.log.Warn("delete old quota counts", "err", err)
	}
}

// reconcile completes or releases what a crash in the middle of a purchase
// or a payment left, and cancels purchases unpaid past their deadline; see
// purchase.Checkout.Reconcile.
func (a *App) reconcile(ctx context.Context) {
	done, err := a.Purchase.Reconcile(ctx)
	if err != nil && ctx.Err() == nil {
		a.log.Warn("reconcile stock reservations and payments", "err", err)
	}
	if done.Confirmed+done.Released > 0 {
		a.log.Info("stock reservations reconciled", "confirmed", done.Confirmed, "released", done.Released)
	}
	if done.Paid+done.Refunded+done.Failed+done.Expired > 0 {
		a.log.Info("payments reconciled", "paid", done.Paid, "refunded", done.Refunded, "failed", done.Failed, "expired", done.Expired)
	}
}

// Close closes the database; it is safe to call more than once.
func (a *App) Close() error {
	a.closeOnce.Do(func() { a.closeErr = a.db.Close() })
	return a.closeErr
}
