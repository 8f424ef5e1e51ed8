// Package rpc is how the services call one another: JSON over HTTP at
// /internal/v1/METHOD, authenticated by a shared service token, carrying the
// end user's identity (a bookstore.Caller the calling service established)
// and the request id. Domain errors cross it with their codes, so a
// conflict in the catalog is still a conflict — and a 409 — at the gateway.
// The gateway never routes /internal/, so only services reach it.
package rpc

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// Prefix is where internal methods are served.
const Prefix = "/internal/v1/"

// MaxBody bounds a request: a cover (2 MiB) in base64 plus framing.
const MaxBody = 4 << 20

// Header names of the protocol.
const (
	headerCaller    = "X-Bookstore-Caller" // "USERID ROLE", empty for visitors
	headerRequestID = "X-Request-ID"
)

// errorBody is how a failed call answers.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

type method func(ctx context.Context, caller bookstore.Caller, body []byte) (any, error)

// Server serves one service's methods.
type Server struct {
	token   []byte
	log     *slog.Logger
	methods map[string]method
}

// NewServer returns a server that only answers callers presenting token.
func NewServer(token string, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{token: []byte(token), log: log, methods: map[string]method{}}
}

// Handle registers fn as the method name; its input is decoded from the
// request's JSON body and its output encoded as the answer.
func Handle[In, Out any](s *Server, name string, fn func(ctx context.Context, caller bookstore.Caller, in In) (Out, error)) {
	s.methods[name] = func(ctx context.Context, caller bookstore.Caller, body []byte) (any, error) {
		var in In
		if len(body) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, bookstore.Errorf(bookstore.EINVALID, "rpc %s: request body: %v", name, err)
			}
		}
		return fn(ctx, caller, in)
	}
}

// Empty is the input or output of methods that take or give nothing.
type Empty struct{}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, bookstore.Errorf(bookstore.ENOTFOUND, "not found"))
		return
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, bookstore.Errorf(bookstore.EUNAUTHORIZED, "a service token is required"))
		return
	}
	m, ok := s.methods[name]
	if !ok {
		writeError(w, http.StatusNotFound, bookstore.Errorf(bookstore.ENOTFOUND, "no method %q", name))
		return
	}
	caller, err := parseCaller(r.Header.Get(headerCaller))
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, bookstore.Errorf(bookstore.ETOOLARGE, "request body must be at most %d MiB", MaxBody>>20))
		return
	}
	ctx := r.Context()
	if id := r.Header.Get(headerRequestID); id != "" {
		ctx = bookstore.WithRequestID(ctx, id)
	}
	out, err := m(ctx, caller, body)
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

func (s *Server) authorized(r *http.Request) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return len(s.token) > 0 && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(tok), s.token) == 1
}

func parseCaller(h string) (bookstore.Caller, error) {
	if h == "" {
		return bookstore.Caller{}, nil
	}
	id, role, ok := strings.Cut(h, " ")
	uid, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || uid < 1 || (role != bookstore.RoleUser && role != bookstore.RoleAdmin) {
		return bookstore.Caller{}, bookstore.Errorf(bookstore.EINVALID, "malformed %s header", headerCaller)
	}
	return bookstore.Caller{UserID: uid, Role: role}, nil
}

func formatCaller(c bookstore.Caller) string {
	if !c.SignedIn() {
		return ""
	}
	return fmt.Sprintf("%d %s", c.UserID, c.Role)
}

// statusOf is informative only: clients read the code in the body.
func statusOf(err error) int {
	switch bookstore.ErrorCode(err) {
	case bookstore.EINVALID:
		return http.StatusBadRequest
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

func writeError(w http.ResponseWriter, status int, err error) {
	code := bookstore.ErrorCode(err)
	msg := bookstore.ErrorMessage(err)
	var be *bookstore.Error
	if !errors.As(err, &be) {
		msg = "internal error"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: msg, Code: code})
}
