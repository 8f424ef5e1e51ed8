package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/monolith"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// TestMonolithJourney runs the browser journey against the real monolith:
// SQLite in a temporary directory, covers on disk, served by httptest.
func TestMonolithJourney(t *testing.T) {
	testenv.Tool(t, "chromium", "chromium-browser") // skip before building anything
	dir := t.TempDir()
	cfg := config.Config{
		Env:             "development",
		Addr:            "127.0.0.1:0",
		DBDSN:           "sqlite:" + filepath.Join(dir, "bookstore.db"),
		UploadsDir:      filepath.Join(dir, "uploads"),
		AdminEmail:      "admin@example.com",
		AdminPassword:   "admin-password-1",
		SeedDemo:        true, // a realistic catalog around the journey's book
		ShutdownTimeout: 5 * time.Second,
		BcryptCost:      bcrypt.MinCost,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app, err := monolith.New(ctx, cfg)
	if err != nil {
		t.Fatalf("start the monolith: %v", err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		srv.Close()
		app.Close()
	})
	Journey(t, srv.URL)
}
