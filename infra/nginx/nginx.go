// Package nginx renders the reverse proxy's NGINX configuration from a typed
// description of the sites it fronts. The same renderer feeds the proxy VM of
// objective 1 (which also fronts objectives 2 and 3), the local rehearsal and
// the `nginx -t` tests, so what is tested is what is deployed.
package nginx

import (
	"bytes"
	_ "embed"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// Proxy is everything the proxy serves: an apex domain and one site per
// objective subdomain.
type Proxy struct {
	// Domain is the apex, e.g. "bookstore.duckdns.org"; sites are served on
	// NAME.Domain. The apex itself redirects to the first site.
	Domain string
	// Sites are served in the given order; a site without an upstream answers
	// a 503 page naming what is missing.
	Sites []Site
	// Listen says where NGINX listens; zero values mean ports 80 and 443.
	Listen Listen
	// TLS says where the certificates are.
	TLS TLS
	// ACMEWebroot is served under /.well-known/acme-challenge/ on port 80 so
	// certbot's HTTP-01 challenge works while everything else redirects.
	ACMEWebroot string
	// Resolver is the DNS server used to re-resolve host-name upstreams at
	// run time (an ALB's addresses change); "169.254.169.253" is the VPC's.
	Resolver string
	// MaxBodySize bounds request bodies; default "10m", above the app's own
	// limits (2 MiB covers), so the app judges uploads and answers in its
	// format (JSON for the API).
	MaxBodySize string
}

// Site is one objective's subdomain.
type Site struct {
	// Name is the subdomain label, e.g. "objective1".
	Name string
	// Title is shown on the 503 page, e.g. "Objective 2 (load-balanced)".
	Title string
	// Upstream is HOST:PORT of the plain-HTTP backend; empty means the
	// objective is not deployed (yet) and the site answers 503.
	Upstream string
}

// Listen holds listen addresses ("80", "127.0.0.1:8081") and the HTTPS port
// that browsers see, used in redirects.
type Listen struct {
	HTTP            string
	HTTPS           string
	PublicHTTPSPort int
}

// TLS locates certbot-style certificates: LiveDir/NAME/fullchain.pem and
// LiveDir/NAME/privkey.pem.
type TLS struct {
	LiveDir string
	// CertName is the one certificate covering the apex and every site. When
	// empty, each host name has its own certificate named after it (DNS-01 on
	// DuckDNS, which holds a single TXT record at a time).
	CertName string
}

// Host is the full host name of a site.
func (p Proxy) Host(s Site) string { return s.Name + "." + p.Domain }

// Hosts lists the apex and every site's host name, the names a certificate
// must cover.
func (p Proxy) Hosts() []string {
	hosts := []string{p.Domain}
	for _, s := range p.Sites {
		hosts = append(hosts, p.Host(s))
	}
	return hosts
}

// CertDir is the directory holding the certificate served for host.
func (p Proxy) CertDir(host string) string {
	name := p.TLS.CertName
	if name == "" {
		name = host
	}
	return strings.TrimRight(p.TLS.LiveDir, "/") + "/" + name
}

// withDefaults fills the zero values.
func (p Proxy) withDefaults() Proxy {
	if p.Listen.HTTP == "" {
		p.Listen.HTTP = "80"
	}
	if p.Listen.HTTPS == "" {
		p.Listen.HTTPS = "443"
	}
	if p.Listen.PublicHTTPSPort == 0 {
		p.Listen.PublicHTTPSPort = 443
	}
	if p.TLS.LiveDir == "" {
		p.TLS.LiveDir = "/etc/letsencrypt/live"
	}
	if p.MaxBodySize == "" {
		p.MaxBodySize = "10m"
	}
	return p
}

var (
	labelPattern  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	sizePattern   = regexp.MustCompile(`^[0-9]+[km]?$`)
	pathPattern   = regexp.MustCompile(`^/[A-Za-z0-9._/-]*$`)
)

// validate rejects anything that could break out of its NGINX directive: the
// values end up inside a configuration file, some of them come from other
// stacks' outputs.
func (p Proxy) validate() error {
	if !domainPattern.MatchString(p.Domain) {
		return fmt.Errorf("nginx: domain %q is not a lower-case DNS name", p.Domain)
	}
	if len(p.Sites) == 0 {
		return fmt.Errorf("nginx: no sites")
	}
	seen := map[string]bool{}
	for _, s := range p.Sites {
		if !labelPattern.MatchString(s.Name) {
			return fmt.Errorf("nginx: site name %q is not a DNS label", s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("nginx: site %q listed twice", s.Name)
		}
		seen[s.Name] = true
		if strings.ContainsAny(s.Title, "'\"\\;{}$<>&\n") {
			return fmt.Errorf("nginx: site %q title %q has characters unsafe in a config or page", s.Name, s.Title)
		}
		if s.Upstream != "" {
			if err := validUpstream(s.Upstream); err != nil {
				return fmt.Errorf("nginx: site %q: %w", s.Name, err)
			}
		}
	}
	for _, l := range []string{p.Listen.HTTP, p.Listen.HTTPS} {
		if err := validListen(l); err != nil {
			return err
		}
	}
	if p.ACMEWebroot != "" && !pathPattern.MatchString(p.ACMEWebroot) {
		return fmt.Errorf("nginx: ACME webroot %q is not a plain absolute path", p.ACMEWebroot)
	}
	if !pathPattern.MatchString(p.TLS.LiveDir) {
		return fmt.Errorf("nginx: certificate directory %q is not a plain absolute path", p.TLS.LiveDir)
	}
	if p.TLS.CertName != "" && !labelPattern.MatchString(p.TLS.CertName) {
		return fmt.Errorf("nginx: certificate name %q is not a plain name", p.TLS.CertName)
	}
	if p.Resolver != "" && net.ParseIP(p.Resolver) == nil {
		return fmt.Errorf("nginx: resolver %q is not an IP address", p.Resolver)
	}
	if !sizePattern.MatchString(p.MaxBodySize) {
		return fmt.Errorf("nginx: body size %q is not an NGINX size", p.MaxBodySize)
	}
	return nil
}

func validUpstream(u string) error {
	host, port, err := net.SplitHostPort(u)
	if err != nil {
		return fmt.Errorf("upstream %q is not HOST:PORT: %v", u, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("upstream %q has no valid port", u)
	}
	if net.ParseIP(host) == nil && !domainPattern.MatchString(strings.ToLower(host)) {
		return fmt.Errorf("upstream host %q is neither an IP address nor a DNS name", host)
	}
	return nil
}

func validListen(l string) error {
	port := l
	if h, p, err := net.SplitHostPort(l); err == nil {
		if net.ParseIP(h) == nil {
			return fmt.Errorf("nginx: listen address %q is not IP:PORT", l)
		}
		port = p
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("nginx: listen %q has no valid port", l)
	}
	return nil
}

//go:embed sites.conf.tmpl
var sitesTemplate string

//go:embed main.conf.tmpl
var mainTemplate string

var templates = template.Must(template.New("sites").Funcs(template.FuncMap{
	// needsResolver: host-name upstreams go through a variable so NGINX
	// resolves them per request instead of once at start-up.
	"isHostName": func(upstream string) bool {
		h, _, _ := net.SplitHostPort(upstream)
		return net.ParseIP(h) == nil
	},
	"upstreamVar": func(name string) string { return "$upstream_" + strings.ReplaceAll(name, "-", "_") },
}).Parse(sitesTemplate))

var mainTmpl = template.Must(template.New("main").Parse(mainTemplate))

//go:embed bootstrap.conf.tmpl
var bootstrapTemplate string

var bootstrapTmpl = template.Must(template.New("bootstrap").Parse(bootstrapTemplate))

// renderedProxy is what the template sees: the description plus the
// derived values, so the template has no logic beyond loops and ifs.
type renderedProxy struct {
	Proxy
	RedirectPort string // ":8443", or "" for 443
	Apex         host
	Sites        []renderedSite
}

type host struct {
	HostName string
	CertDir  string
}

type renderedSite struct {
	Site
	host
}

// RenderSites renders the proxy's server blocks: a file for the `http`
// context, e.g. /etc/nginx/conf.d/bookstore.conf. Every TLS setting lives in
// the server blocks so the file never clashes with a distribution's
// nginx.conf (Ubuntu's sets ssl_protocols at http level).
func RenderSites(p Proxy) (string, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return "", err
	}
	r := renderedProxy{Proxy: p, Apex: host{HostName: p.Domain, CertDir: p.CertDir(p.Domain)}}
	if p.Listen.PublicHTTPSPort != 443 {
		r.RedirectPort = ":" + strconv.Itoa(p.Listen.PublicHTTPSPort)
	}
	for _, s := range p.Sites {
		h := p.Host(s)
		if s.Title == "" {
			s.Title = s.Name
		}
		r.Sites = append(r.Sites, renderedSite{Site: s, host: host{HostName: h, CertDir: p.CertDir(h)}})
	}
	var b bytes.Buffer
	if err := templates.Execute(&b, r); err != nil {
		return "", err
	}
	return b.String(), nil
}

// RenderBootstrap renders the port-80-only configuration the proxy runs
// before its certificate exists: TLS server blocks cannot load a missing
// certificate, and certbot's HTTP-01 challenge needs NGINX up first.
func RenderBootstrap(p Proxy) (string, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := bootstrapTmpl.Execute(&b, p); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Main is the nginx.conf around the sites: nothing from the distribution's
// configuration, so the sites file can set TLS and proxy defaults once at
// http level. Paths default to places under Prefix (the local rehearsal and
// the `nginx -t` tests use a temporary directory).
type Main struct {
	Prefix     string
	SitesFile  string
	LogDir     string // default Prefix/logs
	PidFile    string // default Prefix/nginx.pid
	TempDir    string // default Prefix/tmp
	User       string // worker user when started as root, e.g. "www-data"
	Foreground bool   // daemon off, for a supervisor that owns the process
}

// RenderMain renders the standalone nginx.conf.
func RenderMain(m Main) (string, error) {
	if m.LogDir == "" {
		m.LogDir = m.Prefix + "/logs"
	}
	if m.PidFile == "" {
		m.PidFile = m.Prefix + "/nginx.pid"
	}
	if m.TempDir == "" {
		m.TempDir = m.Prefix + "/tmp"
	}
	if m.User != "" && !labelPattern.MatchString(m.User) {
		return "", fmt.Errorf("nginx: user %q is not a plain name", m.User)
	}
	for _, p := range []string{m.Prefix, m.SitesFile, m.LogDir, m.PidFile, m.TempDir} {
		if !pathPattern.MatchString(p) {
			return "", fmt.Errorf("nginx: %q is not a plain absolute path", p)
		}
	}
	var b bytes.Buffer
	if err := mainTmpl.Execute(&b, m); err != nil {
		return "", err
	}
	return b.String(), nil
}
