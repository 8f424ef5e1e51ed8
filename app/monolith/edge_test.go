package monolith_test

import (
	"testing"

	"github.com/tet-bookstore/bookstore/app/web/apitest"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// Every write endpoint, API and pages, refuses what is not text or too
// long with a 400 and a message, on each database (issue 10, finding 2).

func TestEdgeInputSQLite(t *testing.T) {
	apitest.Edge(t, serve(t, newApp(t, testConfig(t))))
}

func TestEdgeInputMySQL(t *testing.T) {
	cfg := testConfig(t)
	cfg.DBDSN = testenv.MySQL(t)
	apitest.Edge(t, serve(t, newApp(t, cfg)))
}
