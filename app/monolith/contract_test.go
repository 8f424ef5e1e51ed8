package monolith_test

import (
	"testing"

	"github.com/tet-bookstore/bookstore/app/web/apitest"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// The whole API contract of issue 2, over HTTP, on each database.

func TestAPIContractSQLite(t *testing.T) {
	base := serve(t, newApp(t, testConfig(t)))
	apitest.Run(t, base, adminEmail, adminPassword)
}

func TestAPIContractMySQL(t *testing.T) {
	cfg := testConfig(t)
	cfg.DBDSN = testenv.MySQL(t)
	base := serve(t, newApp(t, cfg))
	apitest.Run(t, base, adminEmail, adminPassword)
}
