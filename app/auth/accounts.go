package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// MinPasswordLength is the shortest password accepted at registration.
const MinPasswordLength = 8

// Options tune Accounts; the zero value gives production defaults.
type Options struct {
	SessionTTL time.Duration    // default 7 days
	BcryptCost int              // default bcrypt.DefaultCost; tests lower it
	Limiter    Limiter          // default NewLoginLimiter(DefaultLimits), in memory
	Now        func() time.Time // default time.Now, always used in UTC
	// Sleep waits before checking the password of an account under attack
	// (Limits.Delay); default: a timer that ends early with ctx. Tests record.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Accounts implements Service on top of a Store.
type Accounts struct {
	store   Store
	ttl     time.Duration
	cost    int
	limiter Limiter
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error

	dummyOnce sync.Once
	dummy     []byte
}

var _ Service = (*Accounts)(nil)

// New returns the identity module backed by store.
func New(store Store, opt Options) *Accounts {
	a := &Accounts{store: store, ttl: opt.SessionTTL, cost: opt.BcryptCost, limiter: opt.Limiter, now: opt.Now, sleep: opt.Sleep}
	if a.ttl <= 0 {
		a.ttl = 7 * 24 * time.Hour
	}
	if a.cost == 0 {
		a.cost = bcrypt.DefaultCost
	}
	if a.limiter == nil {
		a.limiter = NewLoginLimiter(DefaultLimits)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.sleep == nil {
		a.sleep = sleepContext
	}
	return a
}

func (a *Accounts) clock() time.Time { return a.now().UTC() }

// Register validates the input and creates a user with the "user" role.
func (a *Accounts) Register(ctx context.Context, in RegisterInput) (User, error) {
	name, email, err := validateRegistration(in)
	if err != nil {
		return User{}, err
	}
	if err := a.takeSignup(ctx, ClientAddr(ctx)); err != nil {
		return User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), a.cost)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	u := User{Name: name, Email: email, Role: bookstore.RoleUser, PasswordHash: string(hash), CreatedAt: a.clock()}
	if err := a.store.CreateUser(ctx, &u); err != nil {
		return User{}, fmt.Errorf("register %s: %w", email, err)
	}
	return u, nil
}

func validateRegistration(in RegisterInput) (name, email string, err error) {
	name = strings.TrimSpace(in.Name)
	if name == "" {
		return "", "", bookstore.Errorf(bookstore.EINVALID, "name is required")
	}
	if utf8.RuneCountInString(name) > 100 {
		return "", "", bookstore.Errorf(bookstore.EINVALID, "name must be at most 100 characters")
	}
	email, err = NormalizeEmail(in.Email)
	if err != nil {
		return "", "", err
	}
	if utf8.RuneCountInString(in.Password) < MinPasswordLength {
		return "", "", bookstore.Errorf(bookstore.EINVALID, "password must be at least %d characters", MinPasswordLength)
	}
	if len(in.Password) > 72 { // bcrypt ignores bytes past 72
		return "", "", bookstore.Errorf(bookstore.EINVALID, "password must be at most 72 bytes")
	}
	return name, email, nil
}

// Login checks the credentials and opens a session. Every attempt is
// counted before the password is checked (see beginLogin): past the limit of
// its (account, address) pair or its address the answer is ETOOMANY even for
// the right password, so guessing gains nothing; an account's failures from
// everywhere only slow its attempts down. A successful attempt is given back.
func (a *Accounts) Login(ctx context.Context, in LoginInput) (Session, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return Session{}, err
	}
	attempt, err := a.beginLogin(ctx, email, in.RemoteAddr)
	if err != nil {
		return Session{}, fmt.Errorf("login %s: %w", email, err)
	}
	wrong := bookstore.Errorf(bookstore.EUNAUTHORIZED, "wrong e-mail or password")
	u, err := a.store.UserByEmail(ctx, email)
	if bookstore.ErrorCode(err) == bookstore.ENOTFOUND {
		// Spend the same time as a real comparison so timing does not reveal accounts.
		_ = bcrypt.CompareHashAndPassword(a.dummyHash(), []byte(in.Password))
		return Session{}, wrong
	} else if err != nil {
		attempt.giveBack(ctx, true) // no password was checked: the attempt is not a guess
		return Session{}, fmt.Errorf("login %s: %w", email, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(in.Password)) != nil {
		return Session{}, wrong
	}
	// Not cancelled with the request: a client gone right after the right
	// password must not leave its attempt counted.
	if err := attempt.succeeded(ctx); err != nil {
		return Session{}, fmt.Errorf("login %s: %w", email, err)
	}
	token, err := newToken()
	if err != nil {
		return Session{}, err
	}
	now := a.clock()
	s := StoredSession{TokenHash: HashToken(token), UserID: u.ID, ExpiresAt: now.Add(a.ttl), CreatedAt: now}
	if err := a.store.CreateSession(ctx, s); err != nil {
		return Session{}, fmt.Errorf("open session for user %d: %w", u.ID, err)
	}
	return Session{Token: token, User: u, ExpiresAt: s.ExpiresAt}, nil
}

// dummyHash is a bcrypt hash of a fixed string, compared against when the
// account does not exist. It uses the configured cost: a hash of another cost
// would take a different time and so reveal which accounts exist.
func (a *Accounts) dummyHash() []byte {
	a.dummyOnce.Do(func() {
		a.dummy, _ = bcrypt.GenerateFromPassword([]byte("not-a-real-password-at-all"), a.cost)
	})
	return a.dummy
}

// Logout revokes the session; an unknown token is not an error.
func (a *Accounts) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if err := a.store.DeleteSession(ctx, HashToken(token)); err != nil && bookstore.ErrorCode(err) != bookstore.ENOTFOUND {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// Authenticate resolves a session token to its user.
func (a *Accounts) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "sign in first")
	}
	u, err := a.store.SessionUser(ctx, HashToken(token), a.clock())
	if bookstore.ErrorCode(err) == bookstore.ENOTFOUND {
		return User{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "session expired or signed out; sign in again")
	} else if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	return u, nil
}

// ListUsers returns every user, for admins.
func (a *Accounts) ListUsers(ctx context.Context, caller bookstore.Caller) ([]User, error) {
	if err := caller.RequireSignedIn(); err != nil {
		return nil, err
	}
	if !caller.IsAdmin() {
		return nil, bookstore.Errorf(bookstore.EFORBIDDEN, "only admins can list users")
	}
	users, err := a.store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// EnsureAdmin makes sure the configured admin account exists with that
// password and the admin role; it runs at every start-up.
func (a *Accounts) EnsureAdmin(ctx context.Context, name, email, password string) (User, error) {
	if strings.TrimSpace(name) == "" {
		name = "Administrator"
	}
	name, email, err := validateRegistration(RegisterInput{Name: name, Email: email, Password: password})
	if err != nil {
		return User{}, fmt.Errorf("admin account: %w", err)
	}
	u, err := a.store.UserByEmail(ctx, email)
	switch {
	case bookstore.ErrorCode(err) == bookstore.ENOTFOUND:
		hash, err := bcrypt.GenerateFromPassword([]byte(password), a.cost)
		if err != nil {
			return User{}, fmt.Errorf("hash admin password: %w", err)
		}
		u = User{Name: name, Email: email, Role: bookstore.RoleAdmin, PasswordHash: string(hash), CreatedAt: a.clock()}
		if err := a.store.CreateUser(ctx, &u); err != nil {
			if bookstore.ErrorCode(err) == bookstore.ECONFLICT { // another instance created it first
				return a.EnsureAdmin(ctx, name, email, password)
			}
			return User{}, fmt.Errorf("create admin %s: %w", email, err)
		}
		return u, nil
	case err != nil:
		return User{}, fmt.Errorf("find admin %s: %w", email, err)
	}
	if u.Role == bookstore.RoleAdmin && bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil {
		return u, nil
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), a.cost)
	if err != nil {
		return User{}, fmt.Errorf("hash admin password: %w", err)
	}
	u.Role, u.PasswordHash = bookstore.RoleAdmin, string(hash)
	if err := a.store.UpdateUser(ctx, &u); err != nil {
		return User{}, fmt.Errorf("promote admin %s: %w", email, err)
	}
	return u, nil
}

// HashToken is how a session token is stored: its SHA-256, hex-encoded.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
