package userdata_test

import (
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/nginx"
	"github.com/tet-bookstore/bookstore/infra/userdata"
	"github.com/tet-bookstore/bookstore/infra/userdata/scripttest"
)

func app() userdata.App {
	return userdata.App{
		Port:                   8080,
		Env:                    map[string]string{"BOOKSTORE_SEED_DEMO": "true", "BOOKSTORE_ADMIN_EMAIL": "admin@example.org"},
		DBPasswordParameter:    "/bookstore/objective1/db-password",
		AdminPasswordParameter: "/bookstore/objective1/admin-password",
		ReleaseParameter:       "/bookstore/objective1/app-release",
		TrustedProxies:         "10.0.2.0/24",
	}
}

func release(delivery userdata.Delivery) userdata.Release {
	return userdata.Release{
		Delivery:     delivery,
		BinaryURL:    "https://github.com/tet-bookstore/bookstore/releases/download/v0.1.0/bookstore-linux-amd64",
		BinarySHA256: strings.Repeat("ab", 32),
		Image:        "ghcr.io/tet-bookstore/bookstore:v0.1.0",
	}
}

func proxy(dns, challenge string, staging bool) userdata.Proxy {
	p := nginx.Proxy{Domain: "shop.duckdns.org", Sites: []nginx.Site{{Name: "objective1", Upstream: "10.0.1.10:8080"}}, ACMEWebroot: "/var/www/letsencrypt", TLS: nginx.TLS{CertName: "bookstore"}}
	boot, err := nginx.RenderBootstrap(p)
	if err != nil {
		panic(err)
	}
	main, err := nginx.RenderMain(nginx.Main{Prefix: "/etc/nginx", SitesFile: "/etc/nginx/bookstore-sites.conf", LogDir: "/var/log/nginx", PidFile: "/run/nginx.pid", TempDir: "/var/lib/nginx", User: "www-data"})
	if err != nil {
		panic(err)
	}
	return userdata.Proxy{
		ElasticIP:             "203.0.113.10",
		Hosts:                 []string{"shop.duckdns.org", "objective1.shop.duckdns.org", "objective2.shop.duckdns.org"},
		DNS:                   dns,
		DuckDNSDomain:         "shop",
		DuckDNSTokenParameter: "/bookstore/objective1/duckdns-token",
		SitesParameter:        "/bookstore/objective1/nginx-sites",
		MainConf:              main,
		BootstrapSites:        boot,
		ACME:                  userdata.ACME{Email: "ops@example.org", Staging: staging, Challenge: challenge, CertName: "bookstore"},
	}
}

func renderProxy(t *testing.T, p userdata.Proxy) userdata.Scripts {
	t.Helper()
	s, err := userdata.RenderProxy(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func renderApp(t *testing.T, a userdata.App) userdata.Scripts {
	t.Helper()
	s, err := userdata.RenderApp(a)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every variant of every script passes bash -n and shellcheck.
func TestScriptsPassBashAndShellcheck(t *testing.T) {
	variants := map[string]userdata.Scripts{
		"app":           renderApp(t, app()),
		"proxy_duckdns": renderProxy(t, proxy("duckdns", "http", false)),
		"proxy_dns01":   renderProxy(t, proxy("duckdns", "dns", true)),
		"proxy_route53": renderProxy(t, proxy("route53", "http", false)),
	}
	noAdmin := app()
	noAdmin.Env = nil
	variants["app_minimal"] = renderApp(t, noAdmin)
	for name, scripts := range variants {
		t.Run(name, func(t *testing.T) { scripttest.Check(t, scripts) })
	}
}

// The proxy waits for its Elastic IP, then for DNS, and only then runs certbot.
func TestProxyBootOrder(t *testing.T) {
	for _, dns := range []string{"duckdns", "route53"} {
		ud := renderProxy(t, proxy(dns, "http", false)).UserData()
		steps := []string{
			`until [ "$(imds public-ipv4 || true)" = '203.0.113.10' ]`,
			"systemctl restart nginx",
			`until getent ahostsv4 "${host}" | grep -q "^"'203.0.113.10'" "`,
			"certbot certonly",
			userdata.SyncScript + "\n",
		}
		if dns == "duckdns" {
			steps = append(steps[:2], append([]string{userdata.DuckDNSUpdate + "\n"}, steps[2:]...)...)
		}
		last := -1
		for _, s := range steps {
			i := strings.Index(ud, s)
			if i < 0 {
				t.Fatalf("%s: user data lacks %q", dns, s)
			}
			if i < last {
				t.Errorf("%s: %q runs before the previous step", dns, s)
			}
			last = i
		}
	}
}

func TestCertbotStagingSwitch(t *testing.T) {
	for _, challenge := range []string{"http", "dns"} {
		if ud := renderProxy(t, proxy("duckdns", challenge, true)).UserData(); !strings.Contains(ud, "--staging") {
			t.Errorf("%s: acmeStaging=true must pass --staging to certbot", challenge)
		}
		if ud := renderProxy(t, proxy("duckdns", challenge, false)).UserData(); strings.Contains(ud, "--staging") {
			t.Errorf("%s: acmeStaging=false must not pass --staging", challenge)
		}
	}
}

func TestCertbotCoversEveryNameInOneCertificate(t *testing.T) {
	ud := renderProxy(t, proxy("duckdns", "http", false)).UserData()
	want := "--cert-name 'bookstore' -d 'shop.duckdns.org' -d 'objective1.shop.duckdns.org' -d 'objective2.shop.duckdns.org'"
	if !strings.Contains(ud, want) || !strings.Contains(ud, "--webroot --webroot-path /var/www/letsencrypt") {
		t.Errorf("HTTP-01 must request one certificate for every name through the webroot; want %q", want)
	}
	dns := renderProxy(t, proxy("duckdns", "dns", false))
	if !strings.Contains(dns.UserData(), "--manual-auth-hook "+userdata.DuckDNSTXTHook) || dns[userdata.DuckDNSTXTHook] == "" {
		t.Error("DNS-01 must use the DuckDNS TXT hook")
	}
}

func TestRenewalReloadsNginx(t *testing.T) {
	s := renderProxy(t, proxy("duckdns", "http", false))
	hook := s[userdata.ReloadHook]
	if !strings.Contains(hook, "systemctl reload nginx") {
		t.Errorf("the certbot deploy hook must reload NGINX:\n%s", hook)
	}
	if !strings.HasPrefix(userdata.ReloadHook, "/etc/letsencrypt/renewal-hooks/deploy/") {
		t.Error("the hook must live where certbot runs deploy hooks on renewal")
	}
	if !strings.Contains(s.UserData(), "systemctl enable --now certbot.timer") {
		t.Error("certbot's renewal timer must be enabled")
	}
}

func TestDuckDNSKeptUpToDateByTimer(t *testing.T) {
	ud := renderProxy(t, proxy("duckdns", "http", false)).UserData()
	if !strings.Contains(ud, "OnUnitActiveSec=5min") || !strings.Contains(ud, "bookstore-duckdns.timer") {
		t.Error("a systemd timer must keep the DuckDNS record pointed at the proxy")
	}
	if r := renderProxy(t, proxy("route53", "http", false)).UserData(); strings.Contains(r, "bookstore-duckdns") {
		t.Error("route53 proxies must not talk to DuckDNS")
	}
}

// Secrets are referenced by parameter name and read with the instance role.
func TestScriptsReadSecretsFromSSM(t *testing.T) {
	a := renderApp(t, app()).UserData()
	for _, want := range []string{
		"DB_PASSWORD=$(ssm_get '/bookstore/objective1/db-password')",
		"ADMIN_PASSWORD=$(ssm_get '/bookstore/objective1/admin-password')",
		"--with-decryption",
		"install -d -m 0700 /etc/bookstore",
		"umask 077",
	} {
		if !strings.Contains(a, want) {
			t.Errorf("app user data lacks %q", want)
		}
	}
	up := renderProxy(t, proxy("duckdns", "http", false))[userdata.DuckDNSUpdate]
	if !strings.Contains(up, "token=$(ssm_get '/bookstore/objective1/duckdns-token')") || !strings.Contains(up, "--config -") {
		t.Errorf("the DuckDNS token must come from SSM and reach curl on stdin:\n%s", up)
	}
}

func TestAppRunsUnderSystemdWithMariaDB(t *testing.T) {
	s := renderApp(t, app())
	ud, deploy := s.UserData(), s[userdata.DeployScript]
	for _, want := range []string{
		"systemctl enable --now mariadb",
		"BOOKSTORE_ADDR=0.0.0.0:8080",
		"BOOKSTORE_DB_DSN=mysql://bookstore:${DB_PASSWORD_URL}@127.0.0.1:3306/bookstore",
		"BOOKSTORE_SEED_DEMO=true",
		// Production: the proxy's X-Forwarded-For believed, cookies Secure.
		"\nBOOKSTORE_ENV=production\n",
		"\nBOOKSTORE_HTTPS_ONLY=true\n",
		"\nBOOKSTORE_TRUSTED_PROXIES=10.0.2.0/24\n",
		"\nBOOKSTORE_ADMIN_PASSWORD=${ADMIN_PASSWORD}\n",
		"\n" + userdata.DeployScript + "\n",
		"systemctl enable --now bookstore-deploy.timer",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("app user data lacks %q", want)
		}
	}
	for _, want := range []string{
		"ssm_get '/bookstore/objective1/app-release'",
		"Requires=mariadb.service",
		"systemctl restart bookstore.service",
		`echo "${sha256}  /usr/local/bin/bookstore.download" | sha256sum -c -`,
		"podman run --rm --name bookstore --network host",
		"ProtectSystem=strict",
	} {
		if !strings.Contains(deploy, want) {
			t.Errorf("deploy script lacks %q", want)
		}
	}
}

// The release is data for the deploy script, one KEY=VALUE a line.
func TestReleaseRendering(t *testing.T) {
	bin, err := release(userdata.Binary).Render()
	if err != nil {
		t.Fatal(err)
	}
	if bin != "delivery=binary\nurl=https://github.com/tet-bookstore/bookstore/releases/download/v0.1.0/bookstore-linux-amd64\nsha256="+strings.Repeat("ab", 32)+"\n" {
		t.Errorf("binary release: %q", bin)
	}
	img, err := release(userdata.Container).Render()
	if err != nil || img != "delivery=container\nimage=ghcr.io/tet-bookstore/bookstore:v0.1.0\n" {
		t.Errorf("container release: %q %v", img, err)
	}
	bad := []func(*userdata.Release){
		func(r *userdata.Release) { r.BinaryURL = "http://example.org/bookstore" },
		func(r *userdata.Release) { r.BinaryURL = "https://example.org/x y" },
		func(r *userdata.Release) { r.BinaryURL = "https://example.org/x\ndelivery=container" },
		func(r *userdata.Release) { r.BinarySHA256 = "abc" },
		func(r *userdata.Release) { r.Delivery = userdata.Container; r.Image = "img; reboot" },
		func(r *userdata.Release) { r.Delivery = "zip" },
	}
	for i, mutate := range bad {
		r := release(userdata.Binary)
		mutate(&r)
		if _, err := r.Render(); err == nil {
			t.Errorf("release case %d: want an error", i)
		}
	}
}

func TestRejectsUnsafeValues(t *testing.T) {
	bad := []func(*userdata.App){
		func(a *userdata.App) { a.Env["BOOKSTORE_X"] = "a'b" },
		func(a *userdata.App) { a.Env["BOOKSTORE_X"] = "$(reboot)" },
		func(a *userdata.App) { a.Env["PATH"] = "/tmp" },
		func(a *userdata.App) { a.Env["BOOKSTORE_DB_DSN"] = "sqlite:x" },
		func(a *userdata.App) { a.DBPasswordParameter = "" },
		func(a *userdata.App) { a.ReleaseParameter = "" },
		func(a *userdata.App) { a.Port = 0 },
		// MySQL makes the app refuse to start without an admin password.
		func(a *userdata.App) { a.AdminPasswordParameter = "" },
		func(a *userdata.App) { a.TrustedProxies = "" },
		func(a *userdata.App) { a.TrustedProxies = "10.0.2.0/24; reboot" },
		func(a *userdata.App) { a.Env["BOOKSTORE_ENV"] = "development" },
		func(a *userdata.App) { a.Env["BOOKSTORE_HTTPS_ONLY"] = "false" },
	}
	for i, mutate := range bad {
		a := app()
		mutate(&a)
		if _, err := userdata.RenderApp(a); err == nil {
			t.Errorf("app case %d: want an error", i)
		}
	}
	badProxy := []func(*userdata.Proxy){
		func(p *userdata.Proxy) { p.ElasticIP = "not-an-ip" },
		func(p *userdata.Proxy) { p.Hosts = []string{"shop.duckdns.org; reboot"} },
		func(p *userdata.Proxy) { p.DNS = "route53"; p.ACME.Challenge = "dns" },
		func(p *userdata.Proxy) { p.ACME.Email = "x' y" },
		func(p *userdata.Proxy) { p.DuckDNSDomain = "a&token=b" },
		func(p *userdata.Proxy) { p.MainConf = "" },
	}
	for i, mutate := range badProxy {
		p := proxy("duckdns", "http", false)
		mutate(&p)
		if _, err := userdata.RenderProxy(p); err == nil {
			t.Errorf("proxy case %d: want an error", i)
		}
	}
}
