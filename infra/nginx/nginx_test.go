package nginx_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/nginx"
	"github.com/tet-bookstore/bookstore/infra/nginx/nginxtest"
)

// proxyWith is the deployed shape: objective 1 always has the app; 2 and 3
// are wired in when their stacks are configured.
func proxyWith(obj2, obj3 string) nginx.Proxy {
	return nginx.Proxy{
		Domain: "shop.duckdns.org",
		Sites: []nginx.Site{
			{Name: "objective1", Title: "Objective 1 (monolith)", Upstream: "10.0.1.10:8080"},
			{Name: "objective2", Title: "Objective 2 (load-balanced)", Upstream: obj2},
			{Name: "objective3", Title: "Objective 3 (Swarm)", Upstream: obj3},
		},
		TLS:         nginx.TLS{CertName: "bookstore"},
		ACMEWebroot: "/var/www/letsencrypt",
		Resolver:    "169.254.169.253",
	}
}

// Every combination of configured backends must be accepted by the real nginx.
func TestNginxAcceptsEveryBackendCombination(t *testing.T) {
	alb := "internal-bookstore-123.us-east-1.elb.amazonaws.com:80"
	swarm := "10.1.1.20:8080"
	cases := map[string]nginx.Proxy{
		"none":     proxyWith("", ""),
		"obj2":     proxyWith(alb, ""),
		"obj3":     proxyWith("", swarm),
		"both":     proxyWith(alb, swarm),
		"no_app":   {Domain: "shop.duckdns.org", Sites: []nginx.Site{{Name: "objective1"}}, TLS: nginx.TLS{CertName: "x"}},
		"per_host": func() nginx.Proxy { p := proxyWith(alb, swarm); p.TLS.CertName = ""; return p }(),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			nginxtest.Check(t, p, false)
		})
	}
	t.Run("bootstrap", func(t *testing.T) {
		nginxtest.Check(t, proxyWith("", ""), true)
	})
}

// server returns the server block whose server_name is host.
func server(t *testing.T, conf, host string) string {
	t.Helper()
	for _, block := range strings.Split(conf, "\nserver {")[1:] {
		if strings.Contains(block, "server_name "+host+";") {
			return block
		}
	}
	t.Fatalf("no server block for %s in:\n%s", host, conf)
	return ""
}

func render(t *testing.T, p nginx.Proxy) string {
	t.Helper()
	conf, err := nginx.RenderSites(p)
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

func TestMissingBackendAnswers503Page(t *testing.T) {
	conf := render(t, proxyWith("", "10.1.1.20:8080"))
	obj2 := server(t, conf, "objective2.shop.duckdns.org")
	if !strings.Contains(obj2, "return 503 '") || !strings.Contains(obj2, "Objective 2 (load-balanced) is not deployed") {
		t.Errorf("objective2 without backend must answer a 503 page naming it:\n%s", obj2)
	}
	if strings.Contains(obj2, "proxy_pass") {
		t.Errorf("objective2 without backend must not proxy:\n%s", obj2)
	}
	obj3 := server(t, conf, "objective3.shop.duckdns.org")
	if !strings.Contains(obj3, "proxy_pass http://10.1.1.20:8080;") || strings.Contains(obj3, "return 503") {
		t.Errorf("objective3 with backend must proxy to it:\n%s", obj3)
	}
}

func TestTLSHeadersAndLimits(t *testing.T) {
	conf := render(t, proxyWith("", ""))
	httpLevel := strings.Split(conf, "\nserver {")[0]
	for _, want := range []string{
		"ssl_protocols TLSv1.2 TLSv1.3;",
		"proxy_set_header X-Forwarded-For $remote_addr;", // overwritten: a client's own entries never pass
		"proxy_set_header X-Forwarded-Proto $scheme;",
		"proxy_set_header Host $host;",
		"client_max_body_size 10m;",
		"proxy_read_timeout 60s;",
	} {
		if !strings.Contains(httpLevel, want) {
			t.Errorf("http-level settings lack %q", want)
		}
	}
	if regexp.MustCompile(`TLSv1(\.1)?[ ;]`).MatchString(conf) {
		t.Error("TLS 1.0/1.1 must not be enabled")
	}
	// Every HTTPS server sends HSTS, and no location has its own add_header or
	// proxy_set_header, which would silently drop the inherited ones.
	for _, block := range strings.Split(conf, "\nserver {")[1:] {
		if strings.Contains(block, " ssl") && !strings.Contains(block, `add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;`) {
			t.Errorf("HTTPS server without HSTS:\n%s", block)
		}
		for _, loc := range strings.Split(block, "location ")[1:] {
			if strings.Contains(loc, "add_header") || strings.Contains(loc, "proxy_set_header") {
				t.Errorf("a location overrides inherited headers:\n%s", loc)
			}
		}
	}
	if !strings.Contains(server(t, conf, "objective1.shop.duckdns.org"), "ssl_certificate     /etc/letsencrypt/live/bookstore/fullchain.pem;") {
		t.Error("objective1 must use the shared certificate")
	}
}

func TestHTTPRedirectsExceptACMEChallenge(t *testing.T) {
	conf := render(t, proxyWith("", ""))
	plain := strings.Split(conf, "\nserver {")[1]
	if !strings.Contains(plain, "listen 80 default_server;") {
		t.Fatalf("first server is not the port 80 one:\n%s", plain)
	}
	if !strings.Contains(plain, "location ^~ /.well-known/acme-challenge/ {\n        root /var/www/letsencrypt;") {
		t.Errorf("ACME challenges must be served from the webroot over HTTP:\n%s", plain)
	}
	if !strings.Contains(plain, "return 301 https://$host$request_uri;") {
		t.Errorf("HTTP must redirect to HTTPS:\n%s", plain)
	}
	p := proxyWith("", "")
	p.Listen = nginx.Listen{HTTP: "127.0.0.1:8081", HTTPS: "127.0.0.1:8443", PublicHTTPSPort: 8443}
	if local := render(t, p); !strings.Contains(local, "return 301 https://$host:8443$request_uri;") {
		t.Errorf("a non-443 HTTPS port must appear in redirects:\n%s", local)
	}
}

func TestHostNameUpstreamIsResolvedPerRequest(t *testing.T) {
	conf := render(t, proxyWith("bookstore-alb-1.us-east-1.elb.amazonaws.com:80", ""))
	if !strings.Contains(conf, "\nresolver 169.254.169.253 valid=30s ipv6=off;") {
		t.Error("a resolver is needed for host-name upstreams")
	}
	obj2 := server(t, conf, "objective2.shop.duckdns.org")
	for _, want := range []string{
		"set $upstream_objective2 http://bookstore-alb-1.us-east-1.elb.amazonaws.com:80;",
		"proxy_pass $upstream_objective2;",
	} {
		if !strings.Contains(obj2, want) {
			t.Errorf("objective2 lacks %q:\n%s", want, obj2)
		}
	}
}

func TestPerHostCertificates(t *testing.T) {
	p := proxyWith("", "")
	p.TLS.CertName = ""
	conf := render(t, p)
	if !strings.Contains(server(t, conf, "objective2.shop.duckdns.org"), "/etc/letsencrypt/live/objective2.shop.duckdns.org/privkey.pem;") {
		t.Error("without a shared certificate name, each host must use its own certificate")
	}
}

// Values reach the file verbatim, some from other stacks: anything able to
// end a directive is refused.
func TestRejectsConfigInjection(t *testing.T) {
	bad := []func(*nginx.Proxy){
		func(p *nginx.Proxy) { p.Sites[1].Upstream = "10.0.0.1:80; include /etc/passwd" },
		func(p *nginx.Proxy) { p.Sites[1].Upstream = "evil host:80" },
		func(p *nginx.Proxy) { p.Sites[1].Upstream = "10.0.0.1" },
		func(p *nginx.Proxy) { p.Domain = "shop.duckdns.org; x" },
		func(p *nginx.Proxy) { p.Sites[0].Name = "Objective1" },
		func(p *nginx.Proxy) { p.Sites[0].Title = "it's" },
		func(p *nginx.Proxy) { p.Resolver = "dns.example" },
		func(p *nginx.Proxy) { p.MaxBodySize = "3m;" },
		func(p *nginx.Proxy) { p.Sites[2].Name = "objective1" },
	}
	for i, mutate := range bad {
		p := proxyWith("", "")
		mutate(&p)
		if _, err := nginx.RenderSites(p); err == nil {
			t.Errorf("case %d: want an error for %+v", i, p)
		}
	}
}
