package nginx_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
		w.Header().Set("X-Seen-For", r.Header.Get("X-Forwarded-For"))
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
	// gateway makes one up.
	req, _ := http.NewRequest(http.MethodGet, base+"/books", nil)
	req.Header.Set("X-Request-ID", "client-chosen-id-1")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("X-Seen-Request-ID") != "client-chosen-id-1" {
		t.Errorf("service saw request id %q", res.Header.Get("X-Seen-Request-ID"))
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

// forwarded asks the gateway at addr for /books with the given headers and
// returns the client address and scheme the service saw.
func forwarded(t *testing.T, addr string, headers map[string]string) (client, proto string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/books", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.Header.Get("X-Seen-For"), res.Header.Get("X-Seen-Proto")
}

// The services trust the gateway's X-Forwarded-For and -Proto, so the
// gateway believes them only from its front: a client talking to it directly
// cannot pick the address its login attempts count against, nor its scheme.
func TestGatewayBelievesForwardingOnlyFromItsFront(t *testing.T) {
	up := strings.TrimPrefix(service(t, "catalog").URL, "http://")
	start := func(front []string) string {
		listen := nginxtest.FreeAddr(t)
		conf, err := nginx.RenderGateway(nginx.Gateway{Listen: listen, Auth: []string{up}, Catalog: []string{up}, Purchase: []string{up}, TrustForwardedFrom: front})
		if err != nil {
			t.Fatal(err)
		}
		nginxtest.Run(t, conf, listen)
		return listen
	}
	claims := map[string]string{"X-Forwarded-For": "192.0.2.99, 198.51.100.4", "X-Forwarded-Proto": "https"}

	behindFront := start([]string{"127.0.0.0/8"})
	if client, proto := forwarded(t, behindFront, claims); client != "198.51.100.4" || proto != "https" {
		t.Errorf("through the front: service saw %q over %q, want the front's last entry 198.51.100.4 over https", client, proto)
	}
	if client, proto := forwarded(t, behindFront, nil); client != "127.0.0.1" || proto != "http" {
		t.Errorf("front without headers: service saw %q over %q, want the peer over http", client, proto)
	}

	direct := start(nil)
	if client, proto := forwarded(t, direct, claims); client != "127.0.0.1" || proto != "http" {
		t.Errorf("direct client: service saw %q over %q, want the peer 127.0.0.1 over http (the claims dropped)", client, proto)
	}
}

// Behind Swarm's routing mesh the peer address is the mesh's own; the
// entry load balancer's PROXY protocol header names the real sender, and
// the container's health check uses a plain listener.
func TestGatewayTakesThePeerFromTheProxyProtocol(t *testing.T) {
	up := strings.TrimPrefix(service(t, "catalog").URL, "http://")
	listen, health := nginxtest.FreeAddr(t), nginxtest.FreeAddr(t)
	conf, err := nginx.RenderGateway(nginx.Gateway{Listen: listen, ProxyProtocol: true, HealthListen: health,
		Auth: []string{up}, Catalog: []string{up}, Purchase: []string{up}})
	if err != nil {
		t.Fatal(err)
	}
	nginxtest.Run(t, conf, listen)

	conn, err := net.DialTimeout("tcp", listen, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "PROXY TCP4 203.0.113.7 10.0.0.2 40000 80\r\nGET /books HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 192.0.2.99\r\nConnection: close\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Seen-For"); got != "203.0.113.7" {
		t.Errorf("service saw client %q, want 203.0.113.7 from the PROXY header", got)
	}

	res, err = http.Get("http://" + health + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("health listener: %d, want 200", res.StatusCode)
	}
	// Without the header the main listener refuses the connection.
	if res, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + listen + "/books"); err == nil {
		res.Body.Close()
		t.Errorf("plain HTTP on the PROXY protocol listener answered %d", res.StatusCode)
	}
}

// A service's own 503 (a dependency is down) goes back to the client; it
// does not make the gateway retry elsewhere or take the instance out.
func TestGatewayPassesAServices503Through(t *testing.T) {
	var hits [2]int
	instance := func(i int, status int) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i]++
			w.WriteHeader(status)
		}))
		t.Cleanup(s.Close)
		return strings.TrimPrefix(s.URL, "http://")
	}
	unavailable, fine := instance(0, http.StatusServiceUnavailable), instance(1, http.StatusOK)
	other := strings.TrimPrefix(service(t, "other").URL, "http://")
	listen := nginxtest.FreeAddr(t)
	conf, err := nginx.RenderGateway(nginx.Gateway{Listen: listen, Auth: []string{other}, Catalog: []string{other},
		Purchase: []string{unavailable, fine}})
	if err != nil {
		t.Fatal(err)
	}
	nginxtest.Run(t, conf, listen)
	got503 := 0
	for i := 0; i < 4; i++ {
		res, err := http.Get("http://" + listen + "/orders")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			got503++
		}
	}
	if got503 != 2 || hits[0] != 2 || hits[1] != 2 {
		t.Errorf("4 GETs: %d answered 503, instances hit %v; want round robin with both 503s passed through", got503, hits)
	}
}
