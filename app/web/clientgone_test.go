package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/web"
)

// hangingCatalog answers only once the request's context ends, with the
// error a database driver gives then.
type hangingCatalog struct{ fakeCatalog }

func (*hangingCatalog) GetBook(ctx context.Context, id int64) (catalog.Book, error) {
	<-ctx.Done()
	return catalog.Book{}, fmt.Errorf("get book %d: %w", id, ctx.Err())
}

// A client that hangs up mid-request is a 499 in the access log and the
// metrics, logged at info: nobody saw a server error.
func TestClientClosedRequestIs499(t *testing.T) {
	logs := &bytes.Buffer{}
	srv := web.New(web.Options{}, web.Deps{
		Auth: fakeAuth{users: map[string]auth.User{}}, Catalog: &hangingCatalog{}, Purchase: fakePurchase{},
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	for _, target := range []string{"/api/v1/books/5", "/books/5"} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the client is gone before the catalog answers
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil).WithContext(ctx))
		if rec.Code != web.StatusClientClosedRequest {
			t.Errorf("GET %s recorded %d, want 499", target, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	metrics := rec.Body.String()
	for _, want := range []string{
		`http_requests_total{method="GET",route="/api/v1/books/:id",status="499"} 1`,
		`http_requests_total{method="GET",route="/books/:id",status="499"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, `status="500"`) {
		t.Error("/metrics counts a 500 for a client that left")
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("an error was logged for a client that left:\n%s", logs)
	}
	if !strings.Contains(logs.String(), `"status":499`) {
		t.Errorf("the access log does not say 499:\n%s", logs)
	}
}
