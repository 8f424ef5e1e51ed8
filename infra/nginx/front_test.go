package nginx_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/nginx"
	"github.com/tet-bookstore/bookstore/infra/nginx/nginxtest"
)

// Every HTTPS site of the proxy refuses /metrics (exact location, so no
// prefix or regex location can win) and overwrites X-Forwarded-For.
func TestSitesRefuseMetrics(t *testing.T) {
	conf := render(t, proxyWith("10.1.1.10:8080", "objective3.internal:8080"))
	for _, host := range []string{"objective1.shop.duckdns.org", "objective2.shop.duckdns.org", "objective3.shop.duckdns.org"} {
		if block := server(t, conf, host); !strings.Contains(block, "location = /metrics {\n        return 404;\n    }") {
			t.Errorf("%s does not refuse /metrics:\n%s", host, block)
		}
	}
	if strings.Contains(conf, "$proxy_add_x_forwarded_for") {
		t.Error("the proxy appends to a client's X-Forwarded-For instead of overwriting it")
	}
}

// The balancer and the gateway answer 404 for /metrics themselves, and hand
// the app exactly one client address: a client's made-up entries before the
// last (the front's) never pass.
func TestBalancerAndGatewayRefuseMetricsAndPassOneAddress(t *testing.T) {
	up := service(t, "app")
	upAddr := strings.TrimPrefix(up.URL, "http://")
	balancer := runBalancer(t, nginx.Balancer{Name: "objective-2", Servers: []string{upAddr}})
	gateway := nginxtestGateway(t, upAddr)
	for name, base := range map[string]string{"balancer": strings.TrimSuffix(balancer, "/"), "gateway": "http://" + gateway} {
		res, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || res.Header.Get("X-Service") != "" {
			t.Errorf("%s /metrics = %d (reached the app: %v), want 404 from NGINX", name, res.StatusCode, res.Header.Get("X-Service") != "")
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/books", nil)
		req.Header.Set("X-Forwarded-For", "192.0.2.66, 198.51.100.4")
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("X-Seen-For"); got != "198.51.100.4" {
			t.Errorf("%s passed X-Forwarded-For %q, want only the front's entry 198.51.100.4", name, got)
		}
	}
}

func nginxtestGateway(t *testing.T, up string) string {
	t.Helper()
	listen := nginxtest.FreeAddr(t)
	conf, err := nginx.RenderGateway(nginx.Gateway{Listen: listen, Auth: []string{up}, Catalog: []string{up}, Purchase: []string{up},
		TrustForwardedFrom: []string{"127.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	nginxtest.Run(t, conf, listen)
	return listen
}
