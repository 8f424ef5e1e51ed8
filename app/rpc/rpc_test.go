package rpc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/rpc"
)

const token = "0123456789abcdef0123456789abcdef"

type echoIn struct {
	Word string `json:"word"`
}

type echoOut struct {
	Word      string           `json:"word"`
	Caller    bookstore.Caller `json:"caller"`
	RequestID string           `json:"request_id"`
}

func newServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	s := rpc.NewServer(token, nil)
	calls := &atomic.Int32{}
	rpc.Handle(s, "test.echo", func(ctx context.Context, caller bookstore.Caller, in echoIn) (echoOut, error) {
		calls.Add(1)
		return echoOut{Word: in.Word, Caller: caller, RequestID: bookstore.RequestID(ctx)}, nil
	})
	rpc.Handle(s, "test.conflict", func(ctx context.Context, _ bookstore.Caller, _ rpc.Empty) (rpc.Empty, error) {
		calls.Add(1)
		return rpc.Empty{}, bookstore.Errorf(bookstore.ECONFLICT, "only 2 left")
	})
	rpc.Handle(s, "test.bug", func(ctx context.Context, _ bookstore.Caller, _ rpc.Empty) (rpc.Empty, error) {
		return rpc.Empty{}, context.DeadlineExceeded // not a domain error: its text must not leak
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, calls
}

func client(url, tok string) *rpc.Client {
	return rpc.NewClient("test", url, tok, rpc.ClientOptions{AttemptTimeout: 2 * time.Second, Backoff: time.Millisecond})
}

func TestCallCarriesInputCallerAndRequestID(t *testing.T) {
	srv, _ := newServer(t)
	ctx := bookstore.WithRequestID(context.Background(), "req-12345678")
	var out echoOut
	caller := bookstore.Caller{UserID: 42, Role: bookstore.RoleAdmin}
	if err := client(srv.URL, token).Call(ctx, "test.echo", caller, echoIn{"hello"}, &out, rpc.Once); err != nil {
		t.Fatal(err)
	}
	if out.Word != "hello" || out.Caller != caller || out.RequestID != "req-12345678" {
		t.Fatalf("answer = %+v", out)
	}
}

func TestDomainErrorsKeepTheirCode(t *testing.T) {
	srv, calls := newServer(t)
	err := client(srv.URL, token).Call(context.Background(), "test.conflict", bookstore.Caller{}, rpc.Empty{}, nil, rpc.Retry)
	if bookstore.ErrorCode(err) != bookstore.ECONFLICT || bookstore.ErrorMessage(err) != "only 2 left" {
		t.Fatalf("error = %v (code %s)", err, bookstore.ErrorCode(err))
	}
	if calls.Load() != 1 {
		t.Fatalf("a domain error was retried: %d calls", calls.Load())
	}
	err = client(srv.URL, token).Call(context.Background(), "test.bug", bookstore.Caller{}, rpc.Empty{}, nil, rpc.Once)
	if err == nil || strings.Contains(err.Error(), "deadline") {
		t.Fatalf("internal error leaked or vanished: %v", err)
	}
}

func TestServiceTokenIsRequired(t *testing.T) {
	srv, calls := newServer(t)
	err := client(srv.URL, "wrong-token-wrong-token-wrong-token").Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{}, nil, rpc.Retry)
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
	if err := client(srv.URL, token).Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{"again"}, &out, rpc.Retry); err != nil {
		t.Fatalf("idempotent call after two 502s: %v", err)
	}
	if out.Word != "again" || calls.Load() != 1 || hits.Load() != 3 {
		t.Fatalf("answer %+v after %d attempts, %d calls", out, hits.Load(), calls.Load())
	}

	hits.Store(0)
	err := client(srv.URL, token).Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{"once"}, &out, rpc.Once)
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
	err := client(url, token).Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{}, nil, rpc.Retry)
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
	c := rpc.NewClient("slow", hang.URL, token, rpc.ClientOptions{AttemptTimeout: 50 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond})
	err = c.Call(context.Background(), "test.echo", bookstore.Caller{}, echoIn{}, nil, rpc.Retry)
	if bookstore.ErrorCode(err) != bookstore.EUNAVAILABLE {
		t.Fatalf("hanging service: %v", err)
	}
}
