package services_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/web/apitest"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// Every service serves the whole API, its own module in-process and the
// others over HTTP, so the monolith's contract suite must pass against each
// of them directly: that exercises every remote client and every internal
// method, with no gateway in between. (infra/local runs it through the
// gateway too.)
func TestAPIContractThroughEachService(t *testing.T) {
	c := startCluster(t, sqliteDSN, nil)
	for _, r := range roles {
		t.Run(string(r), func(t *testing.T) {
			apitest.Run(t, coversFromCatalog(t, c, r), adminEmail, adminPassword)
		})
	}
}

// coversFromCatalog fronts service r like the gateway does for cover files,
// which only the catalog (owner of the uploads volume) serves; every other
// request goes to r itself.
func coversFromCatalog(t *testing.T, c *cluster, r config.Role) string {
	target, _ := url.Parse(c.URL[r])
	covers, _ := url.Parse(c.URL[config.CatalogService])
	toTarget, toCovers := httputil.NewSingleHostReverseProxy(target), httputil.NewSingleHostReverseProxy(covers)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, "/covers/") {
			toCovers.ServeHTTP(w, req)
			return
		}
		toTarget.ServeHTTP(w, req)
	}))
	t.Cleanup(front.Close)
	return front.URL
}

func TestAPIContractOnMySQL(t *testing.T) {
	c := startCluster(t, func(t testing.TB, _ config.Role) string { return testenv.MySQL(t) }, nil)
	apitest.Run(t, c.URL[config.CatalogService], adminEmail, adminPassword)
}
