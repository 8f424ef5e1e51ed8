package token

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Revocation is a signed-out session (see auth.Revocation).
type Revocation = auth.Revocation

// RevocationSource lists revocations in id order: the auth service, over
// HTTP in catalog and purchase. RevokedAfter must return when ctx ends.
type RevocationSource interface {
	RevokedAfter(ctx context.Context, afterID int64, limit int) ([]Revocation, error)
}

// Defaults for AuthenticatorOptions.
const (
	DefaultPollInterval   = 2 * time.Second
	DefaultStaleAfter     = 30 * time.Second
	DefaultSettle         = 30 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	DefaultPageSize       = 500
)

// AuthenticatorOptions tune an Authenticator; the zero value gives
// production defaults.
type AuthenticatorOptions struct {
	// PollInterval is how often Run asks for new revocations, and so about
	// how long a logout takes to reach this service.
	PollInterval time.Duration
	// StaleAfter is how old the last successful sync may be before signed-in
	// requests are refused with EUNAVAILABLE: past it, a logout could have
	// been missed, so accepting tokens would fail open.
	StaleAfter time.Duration
	// Settle is how long after its revocation time a revocation is asked
	// for again. On MySQL a transaction can commit a lower id after a higher
	// one was already read; re-reading the recent ids catches it.
	Settle time.Duration
	// RequestTimeout bounds one RevokedAfter call.
	RequestTimeout time.Duration
	// PageSize is the limit passed to RevokedAfter (at most
	// auth.MaxRevocationsPage).
	PageSize int
	Logger   *slog.Logger     // default slog.Default()
	Now      func() time.Time // default time.Now
}

// Authenticator authenticates tokens where the auth service is remote
// (catalog and purchase): it verifies them offline and refuses those of
// signed-out sessions, from a revocation list kept in sync by Run.
type Authenticator struct {
	verify *Verifier
	src    RevocationSource
	opt    AuthenticatorOptions

	syncMu sync.Mutex // one sync at a time; guards cursor
	cursor int64      // every revocation up to this id has been seen

	mu         sync.RWMutex
	revoked    map[string]time.Time // session id -> the session's expiry
	lastSync   time.Time            // zero until the first success
	staleSaid  bool                 // the stale list was logged
	lastSyncEr error                // why syncing fails, for the log line
}

// NewAuthenticator returns an Authenticator that trusts v and polls src.
// It refuses every token until its first successful sync.
func NewAuthenticator(v *Verifier, src RevocationSource, opt AuthenticatorOptions) *Authenticator {
	if opt.PollInterval <= 0 {
		opt.PollInterval = DefaultPollInterval
	}
	if opt.StaleAfter <= 0 {
		opt.StaleAfter = DefaultStaleAfter
	}
	if opt.Settle <= 0 {
		opt.Settle = DefaultSettle
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = DefaultRequestTimeout
	}
	if opt.PageSize <= 0 || opt.PageSize > auth.MaxRevocationsPage {
		opt.PageSize = DefaultPageSize
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Authenticator{verify: v, src: src, opt: opt, revoked: map[string]time.Time{}}
}

// Authenticate returns the user a valid, unrevoked token was issued to:
// EUNAUTHORIZED for a bad, expired or revoked token, EUNAVAILABLE while the
// revocation list is stale.
func (a *Authenticator) Authenticate(_ context.Context, token string) (auth.User, error) {
	c, err := a.verify.Verify(token)
	if err != nil {
		return auth.User{}, err
	}
	now := a.opt.Now()
	a.mu.RLock()
	_, revoked := a.revoked[c.SessionID]
	stale := a.isStale(now)
	a.mu.RUnlock()
	if stale {
		a.sayStale(now)
		return auth.User{}, bookstore.Errorf(bookstore.EUNAVAILABLE, "the auth service is unreachable; try again shortly")
	}
	if revoked {
		return auth.User{}, expiredToken()
	}
	return c.User, nil
}

// SessionID is the session a valid token names (its sid claim).
func (a *Authenticator) SessionID(token string) (string, bool) {
	c, err := a.verify.Verify(token)
	return c.SessionID, err == nil
}

// TokenLifetime reads when a valid token was issued and expires. With a
// remote auth service's Renew it makes the auth.Renewer a service's web
// server uses to renew browser cookies.
func (a *Authenticator) TokenLifetime(token string) (issuedAt, expiresAt time.Time, ok bool) {
	return a.verify.lifetime(token)
}

func (a *Authenticator) isStale(now time.Time) bool {
	return a.lastSync.IsZero() || now.Sub(a.lastSync) > a.opt.StaleAfter
}

// sayStale logs, once per outage, that tokens are being refused.
func (a *Authenticator) sayStale(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.staleSaid || !a.isStale(now) {
		return
	}
	a.staleSaid = true
	args := []any{"stale_after", a.opt.StaleAfter.String()}
	if !a.lastSync.IsZero() {
		args = append(args, "last_sync", a.lastSync.UTC().Format(time.RFC3339))
	}
	if a.lastSyncEr != nil {
		args = append(args, "error", a.lastSyncEr.Error())
	}
	a.opt.Logger.Error("revocation list is stale: refusing signed-in requests until the auth service answers", args...)
}

// Run keeps the revocation list in sync until ctx ends, polling at once and
// then every PollInterval. It is a serve.Options background job.
func (a *Authenticator) Run(ctx context.Context) {
	t := time.NewTicker(a.opt.PollInterval)
	defer t.Stop()
	for {
		if err := a.Sync(ctx); err != nil && ctx.Err() == nil {
			a.sayStale(a.opt.Now())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync fetches the revocations since the last sync and prunes those whose
// session has expired. On success the list counts as fresh.
func (a *Authenticator) Sync(ctx context.Context) error {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	now := a.opt.Now()
	settled := now.Add(-a.opt.Settle)
	after, cursor, advancing := a.cursor, a.cursor, true
	for {
		page, err := a.fetch(ctx, after)
		if err != nil {
			a.mu.Lock()
			a.lastSyncEr = err
			a.mu.Unlock()
			return err
		}
		a.mu.Lock()
		for _, r := range page {
			if r.ExpiresAt.Add(a.verify.leeway).After(now) {
				a.revoked[r.SessionID] = r.ExpiresAt
			}
			// The cursor only passes revocations old enough that no lower
			// id can still be uncommitted.
			advancing = advancing && r.RevokedAt.Before(settled)
			if advancing {
				cursor = r.ID
			}
		}
		a.mu.Unlock()
		if len(page) < a.opt.PageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	a.cursor = cursor

	a.mu.Lock()
	defer a.mu.Unlock()
	for sid, exp := range a.revoked {
		// No token outlives its session, and a verifier accepts one for at
		// most the leeway past its expiry.
		if !exp.Add(a.verify.leeway).After(now) {
			delete(a.revoked, sid)
		}
	}
	if a.staleSaid {
		a.opt.Logger.Info("revocation list in sync again: accepting signed-in requests")
	}
	a.lastSync, a.staleSaid, a.lastSyncEr = now, false, nil
	return nil
}

func (a *Authenticator) fetch(ctx context.Context, after int64) ([]Revocation, error) {
	ctx, cancel := context.WithTimeout(ctx, a.opt.RequestTimeout)
	defer cancel()
	return a.src.RevokedAfter(ctx, after, a.opt.PageSize)
}
