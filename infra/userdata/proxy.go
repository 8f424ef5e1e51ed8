package userdata

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

// Proxy is the proxy VM: NGINX and certbot, in the boot order DNS and ACME
// need: Elastic IP attached, DNS resolving to it, certificate, full sites.
type Proxy struct {
	ElasticIP string
	// Hosts are the names the certificate covers, the apex first.
	Hosts []string
	// DNS is "duckdns" (the VM keeps the record updated) or "route53"
	// (Pulumi owns the records).
	DNS                   string
	DuckDNSDomain         string // the DuckDNS subdomain, "shop" for shop.duckdns.org
	DuckDNSTokenParameter string
	// SitesParameter names the SSM parameter holding the rendered NGINX sites.
	SitesParameter string
	// MainConf and BootstrapSites are rendered by infra/nginx.
	MainConf       string
	BootstrapSites string
	ACME           ACME
}

// ACME configures certbot.
type ACME struct {
	Email   string // empty registers without an e-mail
	Staging bool   // Let's Encrypt staging: untrusted certificates, generous rate limits
	// Challenge is "http" (HTTP-01 through NGINX) or "dns" (DNS-01 through
	// DuckDNS TXT records, one certificate per name).
	Challenge string
	CertName  string // the shared certificate's name for HTTP-01
}

// Helper is a script the user data installs.
type Helper struct{ Path, Body string }

// helper paths on the proxy.
const (
	SyncScript         = "/usr/local/sbin/bookstore-proxy-sync"
	ReloadHook         = "/etc/letsencrypt/renewal-hooks/deploy/reload-nginx"
	DuckDNSUpdate      = "/usr/local/sbin/bookstore-duckdns-update"
	DuckDNSTXTHook     = "/usr/local/sbin/bookstore-duckdns-txt"
	proxyUserDataName  = "user-data"
	duckDNSLabelLength = 63
)

var (
	hostPattern  = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$`)
	labelPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	emailPattern = regexp.MustCompile(`^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`)
)

// ACMEAccount is certbot's account flag.
func (p Proxy) ACMEAccount() string {
	if p.ACME.Email == "" {
		return "--register-unsafely-without-email"
	}
	return "--email " + shellQuote(p.ACME.Email)
}

func (p Proxy) validate() error {
	if ip := net.ParseIP(p.ElasticIP); ip == nil || ip.To4() == nil {
		return fmt.Errorf("userdata: Elastic IP %q is not an IPv4 address", p.ElasticIP)
	}
	if len(p.Hosts) == 0 {
		return fmt.Errorf("userdata: no host names")
	}
	for _, h := range p.Hosts {
		if !hostPattern.MatchString(h) {
			return fmt.Errorf("userdata: %q is not a lower-case DNS name", h)
		}
	}
	switch p.DNS {
	case "duckdns":
		if !labelPattern.MatchString(p.DuckDNSDomain) || len(p.DuckDNSDomain) > duckDNSLabelLength {
			return fmt.Errorf("userdata: DuckDNS domain %q is not a DNS label", p.DuckDNSDomain)
		}
		if !paramPattern.MatchString(p.DuckDNSTokenParameter) {
			return fmt.Errorf("userdata: DuckDNS token parameter %q", p.DuckDNSTokenParameter)
		}
	case "route53":
	default:
		return fmt.Errorf("userdata: DNS provider %q is neither duckdns nor route53", p.DNS)
	}
	switch p.ACME.Challenge {
	case "http":
		if !labelPattern.MatchString(p.ACME.CertName) {
			return fmt.Errorf("userdata: certificate name %q", p.ACME.CertName)
		}
	case "dns":
		if p.DNS != "duckdns" {
			return fmt.Errorf("userdata: the DNS-01 challenge is implemented for DuckDNS only")
		}
	default:
		return fmt.Errorf("userdata: ACME challenge %q is neither http nor dns", p.ACME.Challenge)
	}
	if p.ACME.Email != "" && !emailPattern.MatchString(p.ACME.Email) {
		return fmt.Errorf("userdata: ACME e-mail %q", p.ACME.Email)
	}
	if !paramPattern.MatchString(p.SitesParameter) {
		return fmt.Errorf("userdata: sites parameter %q", p.SitesParameter)
	}
	for _, c := range []string{p.MainConf, p.BootstrapSites} {
		if c == "" || !strings.HasSuffix(c, "\n") || strings.Contains(c, "\nBOOKSTORE_NGINX_END\n") {
			return fmt.Errorf("userdata: NGINX configuration missing or not embeddable")
		}
	}
	return nil
}

// Helpers renders the scripts the proxy installs.
func (p Proxy) Helpers() ([]Helper, error) {
	files := []struct{ path, tmpl string }{
		{SyncScript, "proxy-sync.sh.tmpl"},
		{ReloadHook, "reload-nginx.sh.tmpl"},
	}
	if p.DNS == "duckdns" {
		files = append(files, struct{ path, tmpl string }{DuckDNSUpdate, "duckdns-update.sh.tmpl"})
		if p.ACME.Challenge == "dns" {
			files = append(files, struct{ path, tmpl string }{DuckDNSTXTHook, "duckdns-txt.sh.tmpl"})
		}
	}
	var helpers []Helper
	for _, f := range files {
		body, err := render(f.tmpl, p)
		if err != nil {
			return nil, err
		}
		helpers = append(helpers, Helper{Path: f.path, Body: body})
	}
	return helpers, nil
}

// RenderProxy renders the proxy VM's user data and, for tests, each helper
// script it installs.
func RenderProxy(p Proxy) (Scripts, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	helpers, err := p.Helpers()
	if err != nil {
		return nil, err
	}
	ud, err := render("proxy.sh.tmpl", struct {
		Proxy
		Helpers []Helper
	}{p, helpers})
	if err != nil {
		return nil, err
	}
	scripts := Scripts{proxyUserDataName: ud}
	for _, h := range helpers {
		scripts[h.Path] = h.Body
	}
	return scripts, nil
}
