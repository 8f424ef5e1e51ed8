package remote

import (
	"context"
	"time"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/rpc"
)

// TokenVerifier is how the catalog and purchase services authenticate users
// without a call per request: the auth service's signed tokens are checked
// locally against its public key and the revocations it publishes.
type TokenVerifier interface {
	Authenticate(ctx context.Context, token string) (auth.User, error)
	TokenLifetime(token string) (issuedAt, expiresAt time.Time, ok bool)
}

// AuthClient is the auth service as an auth.Service (and auth.Renewer, so
// browsers' short-lived tokens are renewed wherever they browse).
type AuthClient struct {
	c     *rpc.Client
	local TokenVerifier
}

var (
	_ auth.Service             = (*AuthClient)(nil)
	_ auth.Renewer             = (*AuthClient)(nil)
	_ auth.OnlineAuthenticator = (*AuthClient)(nil)
	_ auth.SessionIdentifier   = (*AuthClient)(nil)
)

// NewAuthClient returns a client of the auth service that authenticates
// tokens with local.
func NewAuthClient(c *rpc.Client, local TokenVerifier) *AuthClient {
	return &AuthClient{c: c, local: local}
}

// wireLogin carries the client's address, which the public JSON leaves out
// and the auth service's login rate limit counts by.
type wireLogin struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	RemoteAddr string `json:"remote_addr"`
}

// wireRegister carries the client's address, which the sign-up limit counts by.
type wireRegister struct {
	Name       string `json:"name"`
	Email      string `json:"email"`
	Password   string `json:"password"`
	RemoteAddr string `json:"remote_addr"`
}

type wireToken struct {
	Token string `json:"token"`
}

type wireEmail struct {
	Email string `json:"email"`
}

type revokedQuery struct {
	AfterID int64 `json:"after_id"`
	Limit   int   `json:"limit"`
}

// Register is not retried: a retry after a lost answer would say the e-mail is taken.
func (a *AuthClient) Register(ctx context.Context, in auth.RegisterInput) (auth.User, error) {
	var u auth.User
	in2 := wireRegister{Name: in.Name, Email: in.Email, Password: in.Password, RemoteAddr: auth.ClientAddr(ctx)}
	err := a.c.Call(ctx, "auth.register", nobody, in2, &u, rpc.Once)
	return u, err
}

func (a *AuthClient) Login(ctx context.Context, in auth.LoginInput) (auth.Session, error) {
	var s auth.Session
	err := a.c.Call(ctx, "auth.login", nobody, wireLogin(in), &s, rpc.Once)
	return s, err
}

// Logout signs out at the auth service, then refreshes the local revocation
// list at once, so this instance refuses the token from the next request on
// (other instances within one poll of the list).
func (a *AuthClient) Logout(ctx context.Context, token string) error {
	if err := a.c.Call(ctx, "auth.logout", nobody, wireToken{token}, nil, rpc.Retry); err != nil {
		return err
	}
	if s, ok := a.local.(interface{ Sync(context.Context) error }); ok {
		_ = s.Sync(ctx) // a failure only delays the refusal to the next poll
	}
	return nil
}

// Authenticate never calls the auth service: see TokenVerifier.
func (a *AuthClient) Authenticate(ctx context.Context, token string) (auth.User, error) {
	return a.local.Authenticate(ctx, token)
}

// AuthenticateOnline asks the auth service whether the token's session still
// lives (after checking it locally, so junk never costs a call).
func (a *AuthClient) AuthenticateOnline(ctx context.Context, token string) (auth.User, error) {
	if _, err := a.local.Authenticate(ctx, token); err != nil {
		return auth.User{}, err
	}
	var u auth.User
	err := a.c.Call(ctx, "auth.authenticate", nobody, wireToken{token}, &u, rpc.Retry)
	return u, err
}

// SessionID reads the session a token names with the local verifier.
func (a *AuthClient) SessionID(token string) (string, bool) {
	if s, ok := a.local.(auth.SessionIdentifier); ok {
		return s.SessionID(token)
	}
	return "", false
}

func (a *AuthClient) TokenLifetime(token string) (time.Time, time.Time, bool) {
	return a.local.TokenLifetime(token)
}

func (a *AuthClient) Renew(ctx context.Context, token string) (auth.Session, error) {
	var s auth.Session
	err := a.c.Call(ctx, "auth.renew", nobody, wireToken{token}, &s, rpc.Retry)
	return s, err
}

func (a *AuthClient) ListUsers(ctx context.Context, caller bookstore.Caller) ([]auth.User, error) {
	var us []auth.User
	err := a.c.Call(ctx, "auth.list_users", caller, rpc.Empty{}, &us, rpc.Retry)
	return us, err
}

// EnsureAdmin is never a remote call: the auth service ensures the admin
// account at its own start-up, and no route lets another service reset an
// account's password or make it an admin.
func (a *AuthClient) EnsureAdmin(context.Context, string, string, string) (auth.User, error) {
	return auth.User{}, bookstore.Errorf(bookstore.EFORBIDDEN, "the admin account is ensured by the auth service at start-up, never by another service")
}

// UserByEmail finds an account (the catalog's demo seed looks its seller up).
func (a *AuthClient) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	var u auth.User
	err := a.c.Call(ctx, "auth.user_by_email", nobody, wireEmail{email}, &u, rpc.Retry)
	return u, err
}

// RevokedAfter lists signed-out sessions, for the local TokenVerifier.
func (a *AuthClient) RevokedAfter(ctx context.Context, afterID int64, limit int) ([]auth.Revocation, error) {
	var rs []auth.Revocation
	err := a.c.Call(ctx, "auth.revoked_after", nobody, revokedQuery{afterID, limit}, &rs, rpc.Retry)
	return rs, err
}

// AuthBackend is what the auth service serves: its auth.Service (signed
// tokens), renewal, the revocation list and account look-up.
type AuthBackend interface {
	auth.Service
	auth.Renewer
	RevokedAfter(ctx context.Context, afterID int64, limit int) ([]auth.Revocation, error)
	UserByEmail(ctx context.Context, email string) (auth.User, error)
}

// ServeAuth registers the auth service's methods on s. (auth.User never
// encodes its password hash, so answers cannot leak it.) There is no
// auth.ensure_admin: see AuthClient.EnsureAdmin.
func ServeAuth(s *rpc.Server, svc AuthBackend) {
	pages := only(CatalogService, PurchaseService)
	rpc.Handle(s, "auth.register", pages, func(ctx context.Context, _ bookstore.Caller, in wireRegister) (auth.User, error) {
		return svc.Register(auth.WithClientAddr(ctx, in.RemoteAddr), auth.RegisterInput{Name: in.Name, Email: in.Email, Password: in.Password})
	})
	rpc.Handle(s, "auth.login", pages, func(ctx context.Context, _ bookstore.Caller, in wireLogin) (auth.Session, error) {
		return svc.Login(ctx, auth.LoginInput(in))
	})
	rpc.Handle(s, "auth.authenticate", pages, func(ctx context.Context, _ bookstore.Caller, in wireToken) (auth.User, error) {
		return svc.Authenticate(ctx, in.Token)
	})
	rpc.Handle(s, "auth.logout", pages, func(ctx context.Context, _ bookstore.Caller, in wireToken) (rpc.Empty, error) {
		return rpc.Empty{}, svc.Logout(ctx, in.Token)
	})
	rpc.Handle(s, "auth.renew", pages, func(ctx context.Context, _ bookstore.Caller, in wireToken) (auth.Session, error) {
		return svc.Renew(ctx, in.Token)
	})
	rpc.Handle(s, "auth.list_users", pages, func(ctx context.Context, caller bookstore.Caller, _ rpc.Empty) ([]auth.User, error) {
		return svc.ListUsers(ctx, caller)
	})
	rpc.Handle(s, "auth.user_by_email", only(CatalogService), func(ctx context.Context, _ bookstore.Caller, in wireEmail) (auth.User, error) {
		return svc.UserByEmail(ctx, in.Email)
	})
	rpc.Handle(s, "auth.revoked_after", only(CatalogService, PurchaseService), func(ctx context.Context, _ bookstore.Caller, in revokedQuery) ([]auth.Revocation, error) {
		return svc.RevokedAfter(ctx, in.AfterID, in.Limit)
	})
}
