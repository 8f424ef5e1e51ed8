package rpc_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/rpc"
	"github.com/tet-bookstore/bookstore/app/token"
)

// The server under test is the "test" service; "caller" may call every
// method, "outsider" is a known service on no method's allow-list.
var (
	callerPub, callerKey     = mustKey()
	outsiderPub, outsiderKey = mustKey()
	_, strangerKey           = mustKey() // known to nobody
)

func mustKey() (ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, err := token.GenerateKeyPair()
	if err != nil {
		panic(err)
	}
	return pub, priv
}

func signer(t testing.TB, service string, key ed25519.PrivateKey, now func() time.Time) *token.ServiceSigner {
	t.Helper()
	s, err := token.NewServiceSigner(token.ServiceSignerOptions{Service: service, Key: key, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The user tokens the fake user verifier knows.
const (
	adminToken = "signed-token-of-user-42"
	badToken   = "signed-out-token"
)

var users = rpc.UserVerifierFunc(func(_ context.Context, tok string) (bookstore.Caller, error) {
	if tok == adminToken {
		return bookstore.Caller{UserID: 42, Role: bookstore.RoleAdmin}, nil
	}
	return bookstore.Caller{}, bookstore.Errorf(bookstore.EUNAUTHORIZED, "session expired or signed out; sign in again")
})

// asUser is a request context of the user holding tok, as the web layer makes it.
func asUser(tok string) context.Context {
	return bookstore.WithUserToken(context.Background(), tok)
}

type echoIn struct {
	Word string `json:"word"`
}

type echoOut struct {
	Word      string           `json:"word"`
	Caller    bookstore.Caller `json:"caller"`
	RequestID string           `json:"request_id"`
}

func newServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	v, err := token.NewServiceVerifier(token.ServiceVerifierOptions{Service: "test",
		Callers: map[string]ed25519.PublicKey{"caller": callerPub, "outsider": outsiderPub}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rpc.NewServer(rpc.ServerOptions{Services: v, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	calls := &atomic.Int32{}
	only := []string{"caller"}
	rpc.Handle(s, "test.echo", only, func(ctx context.Context, caller bookstore.Caller, in echoIn) (echoOut, error) {
		calls.Add(1)
		return echoOut{Word: in.Word, Caller: caller, RequestID: bookstore.RequestID(ctx)}, nil
	})
	rpc.Handle(s, "test.conflict", only, func(ctx context.Context, _ bookstore.Caller, _ rpc.Empty) (rpc.Empty, error) {
		calls.Add(1)
		return rpc.Empty{}, bookstore.Errorf(bookstore.ECONFLICT, "only 2 left")
	})
	rpc.Handle(s, "test.bug", only, func(ctx context.Context, _ bookstore.Caller, _ rpc.Empty) (rpc.Empty, error) {
		return rpc.Empty{}, context.DeadlineExceeded // not a domain error: its text must not leak
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, calls
}

// callerTokens are the tokens of the one service the test server allows.
var callerTokens = func() *token.ServiceSigner {
	s, err := token.NewServiceSigner(token.ServiceSignerOptions{Service: "caller", Key: callerKey})
	if err != nil {
		panic(err)
	}
	return s
}()

func client(url string, tokens rpc.ServiceTokens) *rpc.Client {
	return rpc.NewClient("test", url, tokens, rpc.ClientOptions{AttemptTimeout: 2 * time.Second, Backoff: time.Millisecond})
}

func TestCallCarriesInputCallerAndRequestID(t *testing.T) {
	srv, _ := newServer(t)
	ctx := bookstore.WithRequestID(asUser(adminToken), "req-12345678")
	var out echoOut
	caller := bookstore.Caller{UserID: 42, Role: bookstore.RoleAdmin}
	if err := client(srv.URL, callerTokens).Call(ctx, "test.echo", caller, echoIn{"hello"}, &out, rpc.Once); err != nil {
		t.Fatal(err)
	}
	if out.Word != "hello" || out.Caller != caller || out.RequestID != "req-12345678" {
		t.Fatalf("answer = %+v", out)
	}
}

func TestDomainErrorsKeepTheirCode(t *testing.T) {
	srv, calls := newServer(t)
	err := client(srv.URL, callerTokens).Call(context.Background(), "test.conflict", bookstore.Caller{}, rpc.Empty{}, nil, rpc.Retry)
	if bookstore.ErrorCode(err) != bookstore.ECONFLICT || bookstore.ErrorMessage(err) != "only 2 left" {
		t.Fatalf("error = %v (code %s)", err, bookstore.ErrorCode(err))
	}
	if calls.Load() != 1 {
		t.Fatalf("a domain error was retried: %d calls", calls.Load())
	}
	err = client(srv.URL, callerTokens).Call(context.Background(), "test.bug", bookstore.Caller{}, rpc.Empty{}, nil, rpc.Once)
	if err == nil || strings.Contains(err.Error(), "deadline") {
		t.Fatalf("internal error leaked or vanished: %v", err)
	}
}

func TestServiceTokenIsRequired(t *testing.T) {
	srv, calls := newServer(t)
	// A service nobody knows, even one claiming to be "caller".
	err := client(srv.URL, signer(t, "caller", strangerKey, nil)).Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{}, nil, rpc.Retry)
	if err == nil || !strings.Contains(err.Error(), "refused our service token") {
		t.Fatalf("error = %v", err)
	}
	// A forged caller header without the token reaches nothing either.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+rpc.Prefix+"test.echo", strings.NewReader(`{}`))
	req.Header.Set("X-Bookstore-Caller", "1 admin")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || calls.Load() != 0 {
		t.Fatalf("status %d, %d calls; want 401 and none", res.StatusCode, calls.Load())
	}
}

// flaky answers like a proxy whose upstream is restarting, then passes on.
func flaky(failures int, next http.Handler) (http.Handler, *atomic.Int32) {
	n := &atomic.Int32{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(n.Add(1)) <= failures {
			http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
			return
		}
		next.ServeHTTP(w, r)
	}), n
}

func TestIdempotentCallsAreRetriedOthersAreNot(t *testing.T) {
	inner, calls := newServer(t)
	h, hits := flaky(2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Host, r.URL.Scheme, r.RequestURI = strings.TrimPrefix(inner.URL, "http://"), "http", ""
		res, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.WriteHeader(res.StatusCode)
		buf := make([]byte, 4096)
		n, _ := res.Body.Read(buf)
		_, _ = w.Write(buf[:n])
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	var out echoOut
	if err := client(srv.URL, callerTokens).Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{"again"}, &out, rpc.Retry); err != nil {
		t.Fatalf("idempotent call after two 502s: %v", err)
	}
	if out.Word != "again" || calls.Load() != 1 || hits.Load() != 3 {
		t.Fatalf("answer %+v after %d attempts, %d calls", out, hits.Load(), calls.Load())
	}

	hits.Store(0)
	err := client(srv.URL, callerTokens).Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{"once"}, &out, rpc.Once)
	if bookstore.ErrorCode(err) != bookstore.EUNAVAILABLE || hits.Load() != 1 {
		t.Fatalf("non-idempotent call: %v after %d attempts; want EUNAVAILABLE after 1", err, hits.Load())
	}
	if !strings.Contains(bookstore.ErrorMessage(err), "test service is unavailable") {
		t.Fatalf("message = %q", bookstore.ErrorMessage(err))
	}
}

func TestUnreachableOrHangingServiceIsUnavailableNotAHang(t *testing.T) {
	// Nothing listens here.
	l := httptest.NewServer(http.NotFoundHandler())
	url := l.URL
	l.Close()
	err := client(url, callerTokens).Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{}, nil, rpc.Retry)
	if bookstore.ErrorCode(err) != bookstore.EUNAVAILABLE {
		t.Fatalf("unreachable: %v", err)
	}

	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	c := rpc.NewClient("slow", hang.URL, callerTokens, rpc.ClientOptions{AttemptTimeout: 50 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond})
	err = c.Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{}, nil, rpc.Retry)
	if bookstore.ErrorCode(err) != bookstore.EUNAVAILABLE {
		t.Fatalf("hanging service: %v", err)
	}
}

// post sends a raw internal call, so tests can say exactly what a service
// presents; it answers the status and decoded error.
func post(t *testing.T, url, method string, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+rpc.Prefix+method, strings.NewReader(`{"word":"w"}`))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(res.Body).Decode(&e)
	return res.StatusCode, e.Error
}

func bearerOf(t *testing.T, s *token.ServiceSigner, audience string) string {
	t.Helper()
	tok, err := s.Token(audience)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

// Every way of presenting the wrong service credential is 401, a known
// service off the method's allow-list is 403, and none reaches the method.
func TestServiceCredentialsAndAllowList(t *testing.T) {
	srv, calls := newServer(t)
	past := func() time.Time { return time.Now().Add(-10 * time.Minute) }
	cases := []struct {
		name   string
		auth   string
		status int
		says   string
	}{
		{"no token", "", http.StatusUnauthorized, "none presented"},
		{"not a JWT", "Bearer 0123456789abcdef0123456789abcdef", http.StatusUnauthorized, "service token"},
		{"unknown key", bearerOf(t, signer(t, "caller", strangerKey, nil), "test"), http.StatusUnauthorized, "service token"},
		{"unknown service", bearerOf(t, signer(t, "stranger", strangerKey, nil), "test"), http.StatusUnauthorized, "unknown service"},
		{"wrong audience", bearerOf(t, callerTokens, "catalog"), http.StatusUnauthorized, "not meant for the test service"},
		{"expired", bearerOf(t, signer(t, "caller", callerKey, past), "test"), http.StatusUnauthorized, "expired"},
		{"another service's key", bearerOf(t, signer(t, "caller", outsiderKey, nil), "test"), http.StatusUnauthorized, "service token"},
		{"not on the allow-list", bearerOf(t, signer(t, "outsider", outsiderKey, nil), "test"), http.StatusForbidden, "the outsider service may not call test.echo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{"X-Bookstore-User-Token": adminToken}
			if c.auth != "" {
				h["Authorization"] = c.auth
			}
			st, msg := post(t, srv.URL, "test.echo", h)
			if st != c.status || !strings.Contains(msg, c.says) {
				t.Fatalf("status %d %q, want %d saying %q", st, msg, c.status, c.says)
			}
		})
	}
	if calls.Load() != 0 {
		t.Fatalf("%d calls reached the method", calls.Load())
	}
	// Through the client, the outsider hears why, and it is no domain error.
	err := client(srv.URL, signer(t, "outsider", outsiderKey, nil)).Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{}, nil, rpc.Retry)
	if err == nil || !strings.Contains(err.Error(), "does not allow this service") || bookstore.ErrorCode(err) != bookstore.EINTERNAL {
		t.Fatalf("outsider: %v (code %s)", err, bookstore.ErrorCode(err))
	}
}

// The user comes from their verified token alone: a caller header, which
// any service could write, changes nothing, and a bad user token is 401.
func TestUserIdentityComesOnlyFromTheUsersToken(t *testing.T) {
	srv, _ := newServer(t)
	var out echoOut
	forged := rpc.NewClient("test", srv.URL, callerTokens, rpc.ClientOptions{Transport: headerAdder{"X-Bookstore-Caller": "999999 admin"}})
	if err := forged.Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{"w"}, &out, rpc.Once); err != nil {
		t.Fatal(err)
	}
	if out.Caller != (bookstore.Caller{}) {
		t.Fatalf("a forged caller header was believed: %+v", out.Caller)
	}
	st, msg := post(t, srv.URL, "test.echo", map[string]string{"Authorization": bearerOf(t, callerTokens, "test"), "X-Bookstore-User-Token": badToken})
	if st != http.StatusUnauthorized || !strings.Contains(msg, "sign in again") {
		t.Fatalf("a signed-out user's token: %d %q, want 401", st, msg)
	}
	err := client(srv.URL, callerTokens).Call(asUser(badToken), "test.echo", bookstore.Caller{UserID: 42, Role: bookstore.RoleAdmin}, echoIn{}, nil, rpc.Once)
	if bookstore.ErrorCode(err) != bookstore.EUNAUTHORIZED {
		t.Fatalf("through the client: %v, want EUNAUTHORIZED", err)
	}
	// A service that has no token for the user it names cannot call for them.
	err = client(srv.URL, callerTokens).Call(context.Background(), "test.echo", bookstore.Caller{UserID: 42, Role: bookstore.RoleAdmin}, echoIn{}, nil, rpc.Once)
	if err == nil || !strings.Contains(err.Error(), "no token to forward") {
		t.Fatalf("a signed-in caller without a token: %v", err)
	}
	// On nobody's behalf, the user's token is not sent at all.
	if err := client(srv.URL, callerTokens).Call(asUser(adminToken), "test.echo", bookstore.Caller{}, echoIn{}, &out, rpc.Once); err != nil || out.Caller.SignedIn() {
		t.Fatalf("a call on nobody's behalf: %+v, %v", out.Caller, err)
	}
}

// headerAdder adds headers to every request, as a misbehaving service would.
type headerAdder map[string]string

func (h headerAdder) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}
