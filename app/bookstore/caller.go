package bookstore

import "context"

// Roles a user can have. Every signed-in user may both buy and sell.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// Caller is who asks for an operation, as established by authentication.
// The zero Caller is an anonymous visitor.
type Caller struct {
	UserID int64
	Role   string
}

// SignedIn reports whether the caller is an authenticated user.
func (c Caller) SignedIn() bool { return c.UserID != 0 }

// IsAdmin reports whether the caller is an administrator.
func (c Caller) IsAdmin() bool { return c.SignedIn() && c.Role == RoleAdmin }

// Owns reports whether the caller may manage something that belongs to owner:
// its owner or an admin.
func (c Caller) Owns(owner int64) bool { return c.SignedIn() && (c.UserID == owner || c.IsAdmin()) }

// RequireSignedIn returns EUNAUTHORIZED for anonymous callers.
func (c Caller) RequireSignedIn() error {
	if !c.SignedIn() {
		return Errorf(EUNAUTHORIZED, "sign in first")
	}
	return nil
}

type userTokenKey struct{}

// WithUserToken records the signed token the request's user authenticated
// with, so a call to another service on their behalf carries their own
// proof of identity rather than a claim the calling service makes.
func WithUserToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, userTokenKey{}, token)
}

// UserToken returns the token WithUserToken recorded, or "".
func UserToken(ctx context.Context) string {
	t, _ := ctx.Value(userTokenKey{}).(string)
	return t
}
