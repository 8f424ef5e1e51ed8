// Package rpc is how the services call one another: JSON over HTTP at
// /internal/v1/METHOD. Each call carries the calling service's own signed
// token (issuer: that service, audience: the called one), which the called
// service checks against the public keys of the services it knows and the
// method's allow-list; the end user, when there is one, travels as that
// user's own signed token, which the called service verifies itself, so no
// service can claim to act for a user who did not ask. The request id goes
// along too. Domain errors cross it with their codes, so a conflict in the
// catalog is still a conflict — and a 409 — at the gateway. The gateway
// never routes /internal/, so only services reach it.
package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Prefix is where internal methods are served.
const Prefix = "/internal/v1/"

// MaxBody bounds a request: a cover (2 MiB) in base64 plus framing.
const MaxBody = 4 << 20

// Header names of the protocol. The service token is the Authorization
// bearer; a user's token has a header of its own.
const (
	headerUserToken = "X-Bookstore-User-Token"
	headerRequestID = "X-Request-ID"
)

// errorBody is how a failed call answers. Service marks a refusal of the
// calling service itself (its token, or the method's allow-list): a
// deployment fault, not a user's.
type errorBody struct {
	Error   string `json:"error"`
	Code    string `json:"code"`
	Service bool   `json:"service,omitempty"`
}

// ServiceVerifier authenticates calling services (token.ServiceVerifier).
type ServiceVerifier interface {
	// VerifyService returns the service that signed a valid token meant
	// for this service.
	VerifyService(token string) (service string, err error)
}

// UserVerifier turns a user's signed token into the caller it proves:
// EUNAUTHORIZED for a bad, expired or signed-out token.
type UserVerifier interface {
	VerifyUser(ctx context.Context, token string) (bookstore.Caller, error)
}

// UserVerifierFunc adapts a function to UserVerifier.
type UserVerifierFunc func(ctx context.Context, token string) (bookstore.Caller, error)

// VerifyUser calls f.
func (f UserVerifierFunc) VerifyUser(ctx context.Context, token string) (bookstore.Caller, error) {
	return f(ctx, token)
}

// ServerOptions configure a Server.
type ServerOptions struct {
	// Services authenticates the calling services; required.
	Services ServiceVerifier
	// Users verifies the user tokens calls carry; without it, a call
	// carrying one is refused (nobody can then act for a user here).
	Users UserVerifier
	Log   *slog.Logger // default slog.Default()
}

type method struct {
	callers []string // the services allowed to call it
	run     func(ctx context.Context, caller bookstore.Caller, body []byte) (any, error)
}

// Server serves one service's methods.
type Server struct {
	services ServiceVerifier
	users    UserVerifier
	log      *slog.Logger
	methods  map[string]method
}

// NewServer returns a server answering only the services o.Services
// authenticates, each only on the methods that allow it.
func NewServer(o ServerOptions) (*Server, error) {
	if o.Services == nil {
		return nil, errors.New("rpc: a server needs a ServiceVerifier")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Server{services: o.Services, users: o.Users, log: o.Log, methods: map[string]method{}}, nil
}

// Handle registers fn as the method name, callable by the services in
// callers only; its input is decoded from the request's JSON body and its
// output encoded as the answer. A method no service needs is not
// registered at all.
func Handle[In, Out any](s *Server, name string, callers []string, fn func(ctx context.Context, caller bookstore.Caller, in In) (Out, error)) {
	if len(callers) == 0 {
		panic("rpc: method " + name + " allows no caller; do not register it")
	}
	s.methods[name] = method{callers: slices.Clone(callers), run: func(ctx context.Context, caller bookstore.Caller, body []byte) (any, error) {
		var in In
		if len(body) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, bookstore.Errorf(bookstore.EINVALID, "rpc %s: request body: %v", name, err)
			}
		}
		return fn(ctx, caller, in)
	}}
}

// Callers lists, for each method, the services allowed to call it (for
// tests and documentation).
func (s *Server) Callers() map[string][]string {
	out := make(map[string][]string, len(s.methods))
	for name, m := range s.methods {
		out[name] = slices.Clone(m.callers)
	}
	return out
}

// Empty is the input or output of methods that take or give nothing.
type Empty struct{}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, bookstore.Errorf(bookstore.ENOTFOUND, "not found"))
		return
	}
	service, err := s.services.VerifyService(bearer(r))
	if err != nil {
		s.log.WarnContext(r.Context(), "rpc refused a service token", "method", name, "err", err, "request_id", r.Header.Get(headerRequestID))
		writeServiceError(w, http.StatusUnauthorized, bookstore.Errorf(bookstore.EUNAUTHORIZED, "a valid service token is required (%v)", err))
		return
	}
	m, ok := s.methods[name]
	if !ok {
		writeError(w, http.StatusNotFound, bookstore.Errorf(bookstore.ENOTFOUND, "no method %q", name))
		return
	}
	if !slices.Contains(m.callers, service) {
		s.log.WarnContext(r.Context(), "rpc refused a service not allowed to call the method", "method", name, "service", service, "request_id", r.Header.Get(headerRequestID))
		writeServiceError(w, http.StatusForbidden, bookstore.Errorf(bookstore.EFORBIDDEN, "the %s service may not call %s", service, name))
		return
	}
	ctx := r.Context()
	if id := r.Header.Get(headerRequestID); id != "" {
		ctx = bookstore.WithRequestID(ctx, id)
	}
	// Who the user is comes from their own token only: whatever else the
	// request says about users is ignored.
	var caller bookstore.Caller
	if tok := r.Header.Get(headerUserToken); tok != "" {
		if s.users == nil {
			writeError(w, http.StatusUnauthorized, bookstore.Errorf(bookstore.EUNAUTHORIZED, "this service takes no user tokens"))
			return
		}
		if caller, err = s.users.VerifyUser(ctx, tok); err != nil {
			writeError(w, statusOf(err), err)
			return
		}
		if !caller.SignedIn() {
			writeError(w, http.StatusUnauthorized, bookstore.Errorf(bookstore.EUNAUTHORIZED, "sign in first"))
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, bookstore.Errorf(bookstore.ETOOLARGE, "request body must be at most %d MiB", MaxBody>>20))
		return
	}
	out, err := m.run(ctx, caller, body)
	if err != nil {
		if bookstore.ErrorCode(err) == bookstore.EINTERNAL {
			s.log.ErrorContext(ctx, "rpc failed", "method", name, "err", err, "request_id", bookstore.RequestID(ctx))
		}
		writeError(w, statusOf(err), err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(out); err != nil {
		s.log.WarnContext(ctx, "rpc answer not written", "method", name, "err", err)
	}
}

// bearer is the Authorization header's bearer token, or "".
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// statusOf is informative only: clients read the code in the body.
func statusOf(err error) int {
	switch bookstore.ErrorCode(err) {
	case bookstore.EINVALID:
		return http.StatusBadRequest
	case bookstore.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case bookstore.EFORBIDDEN:
		return http.StatusForbidden
	case bookstore.ENOTFOUND:
		return http.StatusNotFound
	case bookstore.ECONFLICT:
		return http.StatusConflict
	case bookstore.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case bookstore.EINTERNAL:
		return http.StatusInternalServerError
	}
	return http.StatusUnprocessableEntity
}

func writeError(w http.ResponseWriter, status int, err error) { write(w, status, err, false) }

// writeServiceError refuses the calling service itself.
func writeServiceError(w http.ResponseWriter, status int, err error) { write(w, status, err, true) }

func write(w http.ResponseWriter, status int, err error, service bool) {
	code := bookstore.ErrorCode(err)
	msg := bookstore.ErrorMessage(err)
	var be *bookstore.Error
	if !errors.As(err, &be) {
		msg = "internal error"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: msg, Code: code, Service: service})
}
