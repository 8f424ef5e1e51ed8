package firstboot_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/infra/acme"
	"github.com/tet-bookstore/bookstore/infra/firstboot"
	"github.com/tet-bookstore/bookstore/infra/localca"
	"github.com/tet-bookstore/bookstore/infra/plan"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

const (
	region      = "us-east-1"
	account     = "123456789012" // the plan's mock account
	releaseHost = "releases.bookstore.test"
	acmeHost    = "acme.bookstore.test"
)

// cacheDir keeps the debootstrap rootfs, pebble and the Debian packages
// between runs (BOOKSTORE_TEST_CACHE, default /var/cache/bookstore-test).
func cacheDir(t *testing.T) string {
	d := os.Getenv("BOOKSTORE_TEST_CACHE")
	if d == "" {
		d = "/var/cache/bookstore-test"
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestObjective1FirstBoot boots objective 1's proxy and app VMs from their
// rendered user data (the offline plan's, unchanged) as Debian 12 system
// containers, with the metadata service, SSM, DuckDNS and pebble standing in
// for AWS, DuckDNS and Let's Encrypt. It passes when both boots finish, the
// app answers through the proxy over HTTPS with pebble's certificate, the
// timers the scripts install are active, and a forced renewal's deploy hook
// makes NGINX serve the new certificate.
func TestObjective1FirstBoot(t *testing.T) {
	for _, tool := range []string{"systemd-nspawn", "debootstrap", "ip", "nsenter", "go"} {
		testenv.Tool(t, tool)
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "booting containers needs root (namespaces, overlay mounts, systemd-nspawn)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	logFile, err := os.Create(filepath.Join(t.TempDir(), "boot.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			if len(b) > 20000 {
				b = b[len(b)-20000:]
			}
			t.Logf("last of the boot log:\n%s", b)
		}
	}()
	log := &syncWriter{f: logFile}
	cache := cacheDir(t)

	start := time.Now()
	rootfs, err := firstboot.EnsureRootfs(ctx, cache, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rootfs ready in %s", time.Since(start).Round(time.Second))

	p, err := plan.Run(plan.Options{Objective: 1, Root: "../..",
		// certbot's cli.ini in the VM names the ACME server; --staging would
		// conflict with it. Everything else is the example stack's.
		Config: map[string]string{"bookstore:acmeStaging": "false"}})
	if err != nil {
		t.Fatal(err)
	}
	proxyUD, appUD := userData(t, p, "proxy"), userData(t, p, "app")
	eip := match(t, proxyUD, `waiting for Elastic IP ([0-9.]+)`)
	proxyIP, appIP := fmt.Sprintf("10.0.1.%d", plan.Octet("proxy")), fmt.Sprintf("10.0.1.%d", plan.Octet("app"))
	domain := match(t, proxyUD, `domains=([a-z0-9-]+)&`)
	hosts := strings.Fields(strings.ReplaceAll(match(t, proxyUD, `for host in ((?:'[^']+' )+); do\n    until getent`), "'", ""))

	bin := buildApp(t)
	binSum := sha256File(t, bin)
	params := parameters(t, p, binSum)

	suffix := hex.EncodeToString([]byte(time.Now().Format("0405")))[:6]
	network, err := firstboot.NewNetwork(suffix)
	if err != nil {
		t.Fatal(err)
	}
	defer network.Close()
	svc := network.Services
	proxyNS, err := network.AddVM("proxy", proxyIP, eip)
	if err != nil {
		t.Fatal(err)
	}
	appNS, err := network.AddVM("app", appIP)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = proxyNS, appNS

	// pebble and its DNS in the services namespace: every name the VMs look
	// up resolves to the stand-ins unless DuckDNS set it.
	pebbleBin, challBin, err := acme.Binaries(ctx, cache)
	if err != nil {
		t.Fatal(err)
	}
	pebbleDir := filepath.Join(t.TempDir(), "pebble")
	_ = os.MkdirAll(pebbleDir, 0o755)
	peb, err := acme.Start(ctx, acme.Options{
		Dir: pebbleDir, Pebble: pebbleBin, ChallSrv: challBin, Host: firstboot.ServicesIP,
		ACMEPort: 14000, ManagementPort: 15000, DNSPort: 53, DNSManagementPort: 8055, HTTPPort: 80,
		DefaultIPv4: firstboot.ServicesIP, TLSNames: []string{acmeHost},
		Prefix: []string{"nsenter", "--net=" + svc.Path()}, Dial: svc.DialContext, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer peb.Stop()

	aws := &firstboot.AWS{Region: region, Parameters: params, VMs: []firstboot.VM{
		{Name: "proxy", PrivateIP: proxyIP, PublicIP: eip, Role: "proxy-role", Allowed: allowed(t, p, "proxy-read-parameters")},
		{Name: "app", PrivateIP: appIP, Role: "app-role", Allowed: allowed(t, p, "app-read-parameters")},
	}}
	duck := &firstboot.DuckDNS{Domain: domain, Token: params["/bookstore/objective1/duckdns-token"].Value, Names: hosts, DNS: dnsOf{ctx, peb}}
	standinCA, err := localca.Issue(filepath.Join(t.TempDir(), "standins"), []string{
		"ssm." + region + ".amazonaws.com", "secretsmanager." + region + ".amazonaws.com", "www.duckdns.org", releaseHost,
	})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(standinCA.Dir, "fullchain.pem"), filepath.Join(standinCA.Dir, "privkey.pem"))
	if err != nil {
		t.Fatal(err)
	}
	api := aws.API()
	serve(t, svc, firstboot.IMDSIP+":80", nil, aws.IMDS())
	serve(t, svc, firstboot.ServicesIP+":443", &tls.Config{Certificates: []tls.Certificate{pair}}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Host {
		case "www.duckdns.org":
			duck.ServeHTTP(w, r)
		case releaseHost:
			http.ServeFile(w, r, bin)
		default:
			api.ServeHTTP(w, r)
		}
	}))
	serve(t, svc, firstboot.ServicesIP+":3142", nil, &firstboot.AptCache{
		Dir: filepath.Join(cache, "apt"), IndexTTL: 6 * time.Hour, Client: &http.Client{Timeout: 10 * time.Minute},
	})

	trust := string(mustRead(t, standinCA.CAFile)) + string(mustRead(t, peb.CAFile))
	bundle := string(mustRead(t, filepath.Join(rootfs, "etc/ssl/certs/ca-certificates.crt"))) + trust
	files := []firstboot.File{
		{Path: "/etc/resolv.conf", Mode: 0o644, Data: "nameserver " + firstboot.ServicesIP + "\n"},
		{Path: "/etc/apt/apt.conf.d/00bookstore-test-proxy", Mode: 0o644, Data: `Acquire::http::Proxy "http://` + firstboot.ServicesIP + `:3142";` + "\n"},
		{Path: "/usr/local/share/ca-certificates/bookstore-test.crt", Mode: 0o644, Data: trust},
		{Path: "/etc/ssl/certs/ca-certificates.crt", Mode: 0o644, Data: bundle},
		// root's own certbot configuration: /etc/letsencrypt/cli.ini is a conffile of
		// the certbot package, which dpkg would stop at on install.
		// Debian's awscli trusts its own bundled CAs, not the system store;
		// the AWS CLI's documented ca_bundle setting points it there.
		{Path: "/root/.aws/config", Mode: 0o600, Data: "[default]\nca_bundle = /etc/ssl/certs/ca-certificates.crt\n"},
		{Path: "/root/.config/letsencrypt/cli.ini", Mode: 0o644, Data: "server = https://" + acmeHost + ":14000/dir\n"},
	}
	boot := func(name, ud string, ns firstboot.Netns) *firstboot.Machine {
		m, err := firstboot.Boot(name, rootfs, filepath.Join(t.TempDir(), name), ns, ud, files, &prefixWriter{w: log, name: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Stop)
		return m
	}
	start = time.Now()
	app := boot("app", appUD, appNS)
	proxy := boot("proxy", proxyUD, proxyNS)
	for _, m := range []*firstboot.Machine{app, proxy} {
		result, err := m.WaitFirstBoot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if result != "exit 0" {
			tail, _ := os.ReadFile(filepath.Join(m.Merged, "var/log/bookstore-boot.log"))
			t.Fatalf("%s: user data ended %q:\n%s", m.Name, result, tail)
		}
		t.Logf("%s: first boot finished after %s", m.Name, time.Since(start).Round(time.Second))
	}

	roots := pebbleRoots(t, ctx, peb)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return svc.DialContext(ctx, network, net.JoinHostPort(eip, port)) // the names resolve to the Elastic IP
		},
	}}
	site := "https://objective1." + hosts[0] + "/"
	if err := waitOK(ctx, client, site+"readyz", 2*time.Minute); err != nil {
		t.Fatalf("the app through the proxy: %v", err)
	}
	for name, units := range map[*firstboot.Machine][]string{
		proxy: {"nginx.service", "certbot.timer", "bookstore-proxy-sync.timer", "bookstore-duckdns.timer"},
		app:   {"mariadb.service", "bookstore.service", "bookstore-deploy.timer"},
	} {
		for _, u := range units {
			if out, err := name.Exec(ctx, "systemctl", "is-active", u); err != nil || strings.TrimSpace(out) != "active" {
				t.Errorf("%s: systemctl is-active %s: %q %v", name.Name, u, out, err)
			}
		}
	}

	// A forced renewal runs the deploy hook the user data installed, which
	// reloads NGINX: the served serial becomes the renewed certificate's.
	certFile := filepath.Join(proxy.Merged, "etc/letsencrypt/live/bookstore/cert.pem")
	before := served(t, ctx, svc, eip, "objective1."+hosts[0], roots)
	if want, _ := acme.LeafSerial(certFile); before != want {
		t.Fatalf("NGINX serves serial %s, the live certificate is %s", before, want)
	}
	if out, err := proxy.Exec(ctx, "certbot", "renew", "--force-renewal", "--no-random-sleep-on-renew"); err != nil {
		t.Fatalf("certbot renew: %v\n%s", err, out)
	}
	renewed, err := acme.LeafSerial(certFile)
	if err != nil || renewed == before {
		t.Fatalf("renewal left serial %s (%v)", before, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for got := served(t, ctx, svc, eip, "objective1."+hosts[0], roots); got != renewed; got = served(t, ctx, svc, eip, "objective1."+hosts[0], roots) {
		if time.Now().After(deadline) {
			t.Fatalf("after renewal NGINX serves %s, want %s: the deploy hook did not reload it", got, renewed)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("AWS calls: %v", aws.Calls())
}

func userData(t *testing.T, p *plan.Plan, name string) string {
	t.Helper()
	rs := p.Find("aws:ec2/instance:Instance", name)
	if len(rs) != 1 {
		t.Fatalf("plan has %d instances named %s", len(rs), name)
	}
	ud, _ := rs[0].Inputs["userData"].(string)
	if ud == "" {
		t.Fatalf("instance %s has no user data in the plan", name)
	}
	return ud
}

// parameters are the plan's SSM parameters with test values for the
// secrets and a release that downloads the freshly built binary.
func parameters(t *testing.T, p *plan.Plan, binSum string) map[string]firstboot.Parameter {
	t.Helper()
	out := map[string]firstboot.Parameter{}
	for _, r := range p.Find("aws:ssm/parameter:Parameter", "") {
		name, _ := r.Inputs["name"].(string)
		typ, _ := r.Inputs["type"].(string)
		value, _ := r.Inputs["insecureValue"].(string)
		switch {
		case strings.HasSuffix(name, "/duckdns-token"):
			// DuckDNS tokens are UUIDs.
			value = "0f6b1a2c-3d4e-4f50-8a9b-" + hex.EncodeToString([]byte(name))[:12]
		case typ == "SecureString":
			// Quotes and a percent sign: the scripts must quote and URL-encode.
			value = "t'e\"st%" + hex.EncodeToString([]byte(name))[:12]
		case r.Name == "app-release":
			value = fmt.Sprintf("delivery=binary\nurl=https://%s/bookstore-linux-amd64\nsha256=%s\n", releaseHost, binSum)
		}
		out[name] = firstboot.Parameter{Name: name, Type: typ, Value: value, ARN: "arn:aws:ssm:" + region + ":" + account + ":parameter" + name}
	}
	if len(out) == 0 {
		t.Fatal("the plan has no SSM parameters")
	}
	return out
}

// allowed are the ARNs a role policy of the plan grants ssm:GetParameter on.
func allowed(t *testing.T, p *plan.Plan, policy string) []string {
	t.Helper()
	rs := p.Find("aws:iam/rolePolicy:RolePolicy", policy)
	if len(rs) != 1 {
		t.Fatalf("plan has no role policy %s", policy)
	}
	doc, _ := rs[0].Inputs["policy"].(string)
	var parsed struct{ Statement []struct{ Resource []string } }
	if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
		t.Fatalf("policy %s: %v", policy, err)
	}
	var arns []string
	for _, s := range parsed.Statement {
		arns = append(arns, s.Resource...)
	}
	return arns
}

func match(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("rendered user data has no %s", pattern)
	}
	return m[1]
}

func buildApp(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("BOOKSTORE_TEST_BINARY"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "bookstore")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./app/cmd/bookstore")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func sha256File(t *testing.T, file string) string {
	t.Helper()
	sum := sha256.Sum256(mustRead(t, file))
	return hex.EncodeToString(sum[:])
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serve(t *testing.T, ns firstboot.Netns, addr string, tlsConf *tls.Config, h http.Handler) {
	t.Helper()
	l, err := ns.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	if tlsConf != nil {
		l = tls.NewListener(l, tlsConf)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

func pebbleRoots(t *testing.T, ctx context.Context, s *acme.Server) *x509.CertPool {
	t.Helper()
	_, pool, err := s.Roots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func waitOK(ctx context.Context, c *http.Client, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("%s: %s", url, last)
}

// served is the serial of the leaf the proxy presents for host.
func served(t *testing.T, ctx context.Context, ns firstboot.Netns, ip, host string, roots *x509.CertPool) string {
	t.Helper()
	raw, err := ns.DialContext(ctx, "tcp", net.JoinHostPort(ip, "443"))
	if err != nil {
		t.Fatal(err)
	}
	conn := tls.Client(raw, &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12})
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("TLS handshake with the proxy as %s: %v", host, err)
	}
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

type dnsOf struct {
	ctx context.Context
	s   *acme.Server
}

func (d dnsOf) SetA(host, ip string) error      { return d.s.SetA(d.ctx, host, ip) }
func (d dnsOf) SetTXT(host, value string) error { return d.s.SetTXT(d.ctx, host, value) }
func (d dnsOf) ClearTXT(host string) error      { return d.s.ClearTXT(d.ctx, host) }

// TestRootfs: the cached rootfs is a Debian 12 system whose init is systemd
// and that has what the user data needs before its own apt-get (curl, CA
// certificates). .ci/run runs it first, so a cold cache is built outside
// make test's per-package timeout.
func TestRootfs(t *testing.T) {
	testenv.Tool(t, "debootstrap")
	if os.Geteuid() != 0 {
		testenv.Missing(t, "debootstrap needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	root, err := firstboot.EnsureRootfs(ctx, cacheDir(t), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if v := string(mustRead(t, filepath.Join(root, "etc/debian_version"))); !strings.HasPrefix(v, "12.") {
		t.Errorf("rootfs is Debian %q, want 12.x", strings.TrimSpace(v))
	}
	if init, err := filepath.EvalSymlinks(filepath.Join(root, "sbin/init")); err != nil || !strings.HasSuffix(init, "/systemd") {
		t.Errorf("/sbin/init is %q (%v), want systemd", init, err)
	}
	for _, f := range []string{"usr/bin/curl", "etc/ssl/certs/ca-certificates.crt", "usr/bin/ip"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("rootfs lacks %s", f)
		}
	}
}
