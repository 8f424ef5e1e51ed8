package services

import (
	"context"
	"fmt"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/remote"
	"github.com/tet-bookstore/bookstore/app/serve"
	"github.com/tet-bookstore/bookstore/app/store"
	"github.com/tet-bookstore/bookstore/app/token"
	"github.com/tet-bookstore/bookstore/app/web"
)

// SweepInterval is how often expired sessions and revocations are deleted.
var SweepInterval = time.Hour

// wireAuth: users and sessions live here; logins hand out signed tokens.
func (p *Process) wireAuth(ctx context.Context) (web.Deps, error) {
	priv, err := token.LoadPrivateKey(p.cfg.Services.TokenPrivateKeyFile)
	if err != nil {
		return web.Deps{}, err
	}
	pub, err := token.LoadPublicKey(p.cfg.Services.TokenPublicKeyFile)
	if err != nil {
		return web.Deps{}, err
	}
	if !pub.Equal(priv.Public()) {
		return web.Deps{}, fmt.Errorf("token keys: %s is not the public key of %s", p.cfg.Services.TokenPublicKeyFile, p.cfg.Services.TokenPrivateKeyFile)
	}
	issuer, err := token.NewIssuer(priv, token.IssuerOptions{TTL: p.cfg.Services.TokenTTL})
	if err != nil {
		return web.Deps{}, err
	}
	users := store.NewAuthStore(p.db)
	limits := auth.DefaultLimits
	limits.SignupsPerAddress = p.cfg.Signups()
	limiter := store.NewLoginLimiter(p.db, limits) // shared by the replicas
	accounts := auth.New(users, auth.Options{BcryptCost: p.cfg.BcryptCost, Limiter: limiter})
	signed := token.NewAccounts(accounts, issuer)

	admin, err := signed.EnsureAdmin(ctx, "Administrator", p.cfg.AdminEmail, p.cfg.AdminPassword)
	if err != nil {
		return web.Deps{}, fmt.Errorf("ensure admin %s: %w", p.cfg.AdminEmail, err)
	}
	p.log.Info("admin account ready", "email", admin.Email, "user_id", admin.ID)

	// A call's user is checked against the sessions here, as logins are.
	if err := p.serveInternal(signed); err != nil {
		return web.Deps{}, err
	}
	remote.ServeAuth(p.internal, authBackend{Accounts: signed, users: users})
	p.background = append(p.background, serve.Every(SweepInterval, func(ctx context.Context) {
		if err := users.DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			p.log.Warn("delete expired sessions", "err", err)
		}
		if err := accounts.SweepRevocations(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("delete expired revocations", "err", err)
		}
		if err := limiter.Sweep(ctx, time.Now()); err != nil && ctx.Err() == nil {
			p.log.Warn("delete old failed-login counts", "err", err)
		}
	}))
	return web.Deps{
		Auth:     signed,
		Catalog:  remote.NewCatalogClient(p.client(remote.CatalogService, p.cfg.Services.CatalogURL)),
		Purchase: remote.NewPurchaseClient(p.client(remote.PurchaseService, p.cfg.Services.PurchaseURL)),
	}, nil
}

// authBackend adds what only services ask the auth service for.
type authBackend struct {
	*token.Accounts
	users auth.Store
}

func (b authBackend) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	return b.users.UserByEmail(ctx, email)
}
