package bookstore

import "context"

type requestIDKey struct{}

// WithRequestID records the id of the request being served, so calls to
// other services carry it and one request can be followed across them.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id WithRequestID recorded, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
