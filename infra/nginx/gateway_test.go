package nginx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/nginx"
	"github.com/tet-bookstore/bookstore/infra/nginx/nginxtest"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

func TestGatewayIsAcceptedByNginx(t *testing.T) {
	bin := testenv.Tool(t, "nginx")
	for name, g := range map[string]nginx.Gateway{
		"fixed": {Listen: "127.0.0.1:9100", Auth: []string{"127.0.0.1:9101"}, Catalog: []string{"127.0.0.1:9102", "127.0.0.1:9112"}, Purchase: []string{"127.0.0.1:9103"}},
		// Swarm: service names through Docker's resolver.
		"swarm": {Listen: "80", Auth: []string{"auth:8080"}, Catalog: []string{"catalog:8080"}, Purchase: []string{"purchase:8080"}, Resolver: "127.0.0.11"},
	} {
		t.Run(name, func(t *testing.T) {
			conf, err := nginx.RenderGateway(g)
			if err != nil {
				t.Fatal(err)
			}
			nginxtest.Validate(t, bin, t.TempDir(), conf)
		})
	}
}

func TestGatewayRejectsBadInput(t *testing.T) {
	ok := nginx.Gateway{Listen: "80", Auth: []string{"auth:8080"}, Catalog: []string{"catalog:8080"}, Purchase: []string{"purchase:8080"}}
	for name, mutate := range map[string]func(*nginx.Gateway){
		"no purchase":        func(g *nginx.Gateway) { g.Purchase = nil },
		"injection":          func(g *nginx.Gateway) { g.Auth = []string{"auth:8080; include /etc/passwd"} },
		"bad listen":         func(g *nginx.Gateway) { g.Listen = "eighty" },
		"resolver with list": func(g *nginx.Gateway) { g.Resolver = "127.0.0.11"; g.Catalog = []string{"a:1", "b:1"} },
		"resolver not an IP": func(g *nginx.Gateway) { g.Resolver = "dns" },
	} {
		g := ok
		mutate(&g)
		if _, err := nginx.RenderGateway(g); err == nil {
			t.Errorf("%s: rendered without error", name)
		}
	}
}

// service answers with its name and the request id it received.
func service(t *testing.T, name string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Service", name)
		w.Header().Set("X-Seen-Request-ID", r.Header.Get("X-Request-ID"))
		w.Header().Set("X-Seen-Proto", r.Header.Get("X-Forwarded-Proto"))
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(s.Close)
	return s
}

// The real NGINX routes every path of the store to the service that owns it.
func TestGatewayRoutesEachPathToItsService(t *testing.T) {
	auth, catalog, purchase := service(t, "auth"), service(t, "catalog"), service(t, "purchase")
	listen := nginxtest.FreeAddr(t)
	conf, err := nginx.RenderGateway(nginx.Gateway{Listen: listen,
		Auth: []string{strings.TrimPrefix(auth.URL, "http://")}, Catalog: []string{strings.TrimPrefix(catalog.URL, "http://")},
		Purchase: []string{strings.TrimPrefix(purchase.URL, "http://")}})
	if err != nil {
		t.Fatal(err)
	}
	nginxtest.Run(t, conf, listen)
	base := "http://" + listen

	for path, want := range map[string]string{
		"/":                           "catalog",
		"/books":                      "catalog",
		"/books/7":                    "catalog",
		"/books/7/edit":               "catalog",
		"/books/7/buy":                "purchase",
		"/books/new":                  "catalog",
		"/my/books":                   "catalog",
		"/covers/ab.png":              "catalog",
		"/static/app.css":             "catalog",
		"/api/v1/books?q=x":           "catalog",
		"/api/v1/openapi.yaml":        "catalog",
		"/login":                      "auth",
		"/register":                   "auth",
		"/logout":                     "auth",
		"/admin/users":                "auth",
		"/api/v1/auth/login":          "auth",
		"/api/v1/admin/users":         "auth",
		"/orders":                     "purchase",
		"/orders/3":                   "purchase",
		"/api/v1/purchases":           "purchase",
		"/api/v1/purchases/3/payment": "purchase",
		"/api/v1/delivery-providers":  "purchase",
	} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("X-Service"); got != want {
			t.Errorf("%s went to %q, want %s", path, got, want)
		}
	}

	// Internal methods are not reachable from outside.
	res, err := http.Post(base+"/internal/v1/catalog.reserve_stock", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || res.Header.Get("X-Service") != "" {
		t.Errorf("/internal/ answered %d from %q, want 404 from the gateway", res.StatusCode, res.Header.Get("X-Service"))
	}

	// A request id from the client is passed through; without one the
	// gateway makes one up. The scheme the front saw is passed on.
	req, _ := http.NewRequest(http.MethodGet, base+"/books", nil)
	req.Header.Set("X-Request-ID", "client-chosen-id-1")
	req.Header.Set("X-Forwarded-Proto", "https")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("X-Seen-Request-ID") != "client-chosen-id-1" || res.Header.Get("X-Seen-Proto") != "https" {
		t.Errorf("service saw request id %q, proto %q", res.Header.Get("X-Seen-Request-ID"), res.Header.Get("X-Seen-Proto"))
	}
	res, err = http.Get(base + "/books")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if id := res.Header.Get("X-Seen-Request-ID"); len(id) < 16 {
		t.Errorf("gateway-made request id = %q", id)
	}

	res, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Service") != "" {
		t.Errorf("/healthz = %d from %q, want 200 from the gateway itself", res.StatusCode, res.Header.Get("X-Service"))
	}
}

// The committed Swarm gateway config is what the renderer makes of the
// stack's services; regenerate it with `UPDATE_GOLDEN=1 go test ./infra/nginx -run Stack`.
func TestStackGatewayConfIsRendered(t *testing.T) {
	want, err := nginx.RenderGateway(nginx.StackGateway)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("..", "objective3", "stack", "gateway.conf")
	nginxtest.Golden(t, file, want)
}

// Uploads over the app's limit but under the gateway's reach the service,
// which answers in its own format; bodies past the gateway's limit get a
// JSON 413 from the gateway, never NGINX's HTML page.
func TestGatewayLeavesUploadLimitsToTheServices(t *testing.T) {
	catalog := service(t, "catalog")
	other := service(t, "other")
	listen := nginxtest.FreeAddr(t)
	host := strings.TrimPrefix(other.URL, "http://")
	conf, err := nginx.RenderGateway(nginx.Gateway{Listen: listen, Auth: []string{host},
		Catalog: []string{strings.TrimPrefix(catalog.URL, "http://")}, Purchase: []string{host}, MaxBodySize: "4m"})
	if err != nil {
		t.Fatal(err)
	}
	nginxtest.Run(t, conf, listen)
	post := func(size int) *http.Response {
		res, err := http.Post("http://"+listen+"/api/v1/books/1/cover", "application/octet-stream", strings.NewReader(strings.Repeat("x", size)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := post(3 << 20); res.Header.Get("X-Service") != "catalog" {
		t.Errorf("a 3 MiB upload was stopped at the gateway (%d) instead of reaching the catalog", res.StatusCode)
	}
	res := post(5 << 20)
	if res.StatusCode != http.StatusRequestEntityTooLarge || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("past the gateway's limit: %d %q, want 413 JSON", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
