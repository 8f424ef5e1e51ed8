// Package services wires the store as three microservices — auth, catalog
// and purchase — from the same domain modules as the monolith. Each process
// runs its own module in-process on its own database and reaches the other
// two through remote clients that satisfy the same interfaces, and serves
// the whole web interface (any page may be routed to it), its module's
// internal methods at /internal/v1/, and /healthz, /readyz and /metrics.
package services

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/remote"
	"github.com/tet-bookstore/bookstore/app/rpc"
	"github.com/tet-bookstore/bookstore/app/serve"
	"github.com/tet-bookstore/bookstore/app/store"
	"github.com/tet-bookstore/bookstore/app/token"
	"github.com/tet-bookstore/bookstore/app/web"
)

// Process is one service, ready to serve.
type Process struct {
	cfg        config.Config
	log        *slog.Logger
	db         *store.DB
	web        *web.Server
	internal   *rpc.Server
	id         identity
	background []func(ctx context.Context)

	closeOnce sync.Once
	closeErr  error
}

// New opens and migrates the service's own database and wires it; its
// errors are one line, fit for the command to print.
func New(ctx context.Context, cfg config.Config) (*Process, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var module store.Module
	switch cfg.Role {
	case config.AuthService:
		module = store.AuthModule
	case config.CatalogService:
		module = store.CatalogModule
	case config.PurchaseService:
		module = store.PurchaseModule
	default:
		return nil, fmt.Errorf("services: %q is not a service (auth, catalog or purchase)", cfg.Role)
	}
	id, err := loadIdentity(cfg)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DBDSN)
	if err != nil {
		return nil, err
	}
	// Each service migrates only the tables it owns, in its own database.
	modules := []store.Module{module}
	if cfg.Role == config.CatalogService {
		modules = append(modules, store.QuotaModule) // the listing and upload quotas count here
	}
	if err := db.Migrate(ctx, modules...); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s database: %w", cfg.Role, err)
	}
	p := &Process{cfg: cfg, log: cfg.Logger.With("service", string(cfg.Role)), db: db, id: id}
	var deps web.Deps
	switch cfg.Role {
	case config.AuthService:
		deps, err = p.wireAuth(ctx)
	case config.CatalogService:
		deps, err = p.wireCatalog(ctx)
	case config.PurchaseService:
		deps, err = p.wirePurchase(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	deps.Ready, deps.DB, deps.Logger = db.Ready, db.SQL(), p.log
	// A page one service renders posts its form to another: they share the CSRF key.
	p.web = web.New(web.Options{TrustedProxies: cfg.TrustedProxies, HTTPSOnly: cfg.HTTPSOnly, CSRFKey: cfg.CSRFKey(),
		HSTS: cfg.HSTS, SeparateMetrics: cfg.MetricsAddr != ""}, deps)
	return p, nil
}

// client is an RPC client of another service, signing as this one.
func (p *Process) client(name, url string) *rpc.Client {
	return rpc.NewClient(name, url, p.id.signer, rpc.ClientOptions{})
}

// authClient is the auth service for the catalog and purchase services:
// users' tokens are verified locally with auth's public key and its
// revocation list, polled in the background. The same check admits the
// user tokens other services' calls carry.
func (p *Process) authClient() (*remote.AuthClient, error) {
	pub, err := token.LoadPublicKey(p.cfg.Services.TokenPublicKeyFile)
	if err != nil {
		return nil, err
	}
	verifier, err := token.NewVerifier(pub, token.VerifierOptions{})
	if err != nil {
		return nil, err
	}
	c := p.client(remote.AuthService, p.cfg.Services.AuthURL)
	revocations := remote.NewAuthClient(c, nil) // only its RevokedAfter is used
	authn := token.NewAuthenticator(verifier, revocations, token.AuthenticatorOptions{Logger: p.log})
	p.background = append(p.background, authn.Run)
	if err := p.serveInternal(authn); err != nil {
		return nil, err
	}
	return remote.NewAuthClient(c, authn), nil
}

// Handler routes internal methods to the RPC server and everything else to
// the web interface. (Only services reach /internal/: the gateway answers
// 404 there, and each method admits only the services it lists.)
func (p *Process) Handler() http.Handler {
	webHandler := p.web.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, rpc.Prefix) {
			p.internal.ServeHTTP(w, r)
			return
		}
		webHandler.ServeHTTP(w, r)
	})
}

// SetDraining makes /readyz answer 503, as the first step of shutting down.
func (p *Process) SetDraining() { p.web.SetDraining() }

// Serve answers requests on l until ctx ends, then shuts down gracefully
// and closes the database (see package serve).
func (p *Process) Serve(ctx context.Context, l net.Listener) error {
	metrics, err := serve.ListenMetrics(p.cfg.MetricsAddr)
	if err != nil {
		p.Close()
		return err
	}
	return serve.Run(ctx, l, serve.Options{
		Handler: p.Handler(), Log: p.log, DrainDelay: p.cfg.DrainDelay, ShutdownTimeout: p.cfg.ShutdownTimeout,
		SetDraining: p.SetDraining, Background: p.background, Close: p.Close,
		Metrics: metrics, MetricsHandler: p.web.MetricsHandler(),
	})
}

// Close closes the database; it is safe to call more than once.
func (p *Process) Close() error {
	p.closeOnce.Do(func() { p.closeErr = p.db.Close() })
	return p.closeErr
}
