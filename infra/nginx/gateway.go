package nginx

import (
	"bytes"
	_ "embed"
	"fmt"
	"net"
	"net/netip"
	"text/template"
	"time"
)

// Gateway is objective 3's front door: NGINX routing each path to the
// service that owns it (auth, catalog or purchase), so the split store looks
// like the monolith from outside. The same renderer feeds the Swarm stack's
// gateway config and the local rehearsal.
type Gateway struct {
	// Listen is where the gateway accepts plain HTTP ("80", "127.0.0.1:9100").
	Listen string
	// Auth, Catalog and Purchase are each service's HOST:PORT instances.
	// With a Resolver each holds one name (Swarm's service VIP, "auth:8080")
	// resolved at run time; without, one or more fixed addresses served
	// round robin with passive health checks.
	Auth, Catalog, Purchase []string
	// Resolver is the DNS server for service names: Docker's 127.0.0.11 in
	// Swarm, where tasks come and go and the VIP only routes to healthy ones.
	Resolver string
	// MaxFails and FailTimeout: passive health of fixed upstreams; defaults 1, 5s.
	MaxFails    int
	FailTimeout time.Duration
	// ConnectTimeout is short so a dead instance fails fast; default 1s.
	ConnectTimeout time.Duration
	// ReadTimeout bounds a response; default 60s.
	ReadTimeout time.Duration
	// ProxyProtocol: every connection on Listen begins with a PROXY
	// protocol header, whose source address is then the peer. Swarm's
	// routing mesh hides the sender behind its own address; the entry load
	// balancer names it in that header. Only the balancer reaches the port
	// from outside (its security group), so every header is believed.
	ProxyProtocol bool
	// HealthListen is an extra plain listener ("127.0.0.1:81") for the
	// container's own health check when Listen expects the PROXY protocol.
	HealthListen string
	// TrustForwardedFrom are the fronts (the objective 1 proxy, the local
	// TLS front) whose X-Forwarded-For and X-Forwarded-Proto are believed.
	// From anyone else the services see the peer's address and the
	// gateway's own scheme, whatever the request claims.
	TrustForwardedFrom []string
	// MaxBodySize bounds request bodies; default "10m", well above the
	// app's own limits (2 MiB covers), so the services judge uploads and
	// answer in their format; beyond it the gateway answers JSON 413 itself.
	MaxBodySize string
}

// Route is a path the gateway sends to a service, as an NGINX location.
type Route struct {
	Location string // "^~ /api/v1/auth/", "= /login", "~ ^/books/[0-9]+/buy$"
	Service  string // "auth", "catalog" or "purchase"
}

// GatewayRoutes is who owns which path. Everything else (the home page,
// books, covers, static files) belongs to the catalog.
var GatewayRoutes = []Route{
	{"^~ /api/v1/auth/", "auth"},
	{"^~ /api/v1/admin/", "auth"},
	{"= /login", "auth"},
	{"= /register", "auth"},
	{"= /logout", "auth"},
	{"^~ /admin/", "auth"},
	{"^~ /api/v1/purchases", "purchase"},
	{"= /api/v1/delivery-providers", "purchase"},
	{"= /orders", "purchase"},
	{"^~ /orders/", "purchase"},
	{"~ ^/books/[0-9]+/buy$", "purchase"},
}

func (g Gateway) withDefaults() Gateway {
	if g.MaxFails == 0 {
		g.MaxFails = 1
	}
	if g.FailTimeout == 0 {
		g.FailTimeout = 5 * time.Second
	}
	if g.ConnectTimeout == 0 {
		g.ConnectTimeout = time.Second
	}
	if g.ReadTimeout == 0 {
		g.ReadTimeout = 60 * time.Second
	}
	if g.MaxBodySize == "" {
		g.MaxBodySize = "10m"
	}
	return g
}

func (g Gateway) services() map[string][]string {
	return map[string][]string{"auth": g.Auth, "catalog": g.Catalog, "purchase": g.Purchase}
}

func (g Gateway) validate() error {
	if err := validListen(g.Listen); err != nil {
		return err
	}
	if g.HealthListen != "" {
		if err := validListen(g.HealthListen); err != nil {
			return fmt.Errorf("nginx: gateway health listener: %w", err)
		}
	}
	for _, front := range g.TrustForwardedFrom {
		if _, err := netip.ParsePrefix(front); err != nil {
			if _, err := netip.ParseAddr(front); err != nil {
				return fmt.Errorf("nginx: gateway trusted front %q is not an address or CIDR", front)
			}
		}
	}
	if g.Resolver != "" && net.ParseIP(g.Resolver) == nil {
		return fmt.Errorf("nginx: gateway resolver %q is not an IP address", g.Resolver)
	}
	for name, servers := range g.services() {
		if len(servers) == 0 {
			return fmt.Errorf("nginx: gateway has no %s service", name)
		}
		if g.Resolver != "" && len(servers) != 1 {
			return fmt.Errorf("nginx: gateway with a resolver takes one name per service, %s has %d", name, len(servers))
		}
		for _, s := range servers {
			if err := validUpstream(s); err != nil {
				return fmt.Errorf("nginx: gateway %s: %w", name, err)
			}
		}
	}
	if g.MaxFails < 1 || g.FailTimeout < time.Second || g.FailTimeout%time.Second != 0 {
		return fmt.Errorf("nginx: gateway: max fails must be >= 1 and fail timeout whole seconds")
	}
	if g.ConnectTimeout < time.Millisecond || g.ReadTimeout < time.Millisecond {
		return fmt.Errorf("nginx: gateway: timeouts must be at least 1ms")
	}
	if !sizePattern.MatchString(g.MaxBodySize) {
		return fmt.Errorf("nginx: body size %q is not an NGINX size", g.MaxBodySize)
	}
	return nil
}

//go:embed gateway.conf.tmpl
var gatewayTemplate string

var gatewayTmpl = template.Must(template.New("gateway").Funcs(template.FuncMap{
	"ms":      func(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) },
	"seconds": func(d time.Duration) string { return fmt.Sprintf("%ds", int64(d/time.Second)) },
}).Parse(gatewayTemplate))

type renderedGateway struct {
	Gateway
	Routes   []Route
	Services []renderedService
}

type renderedService struct {
	Name    string
	Servers []string
}

// RenderGateway renders the gateway's blocks for the `http` context.
func RenderGateway(g Gateway) (string, error) {
	g = g.withDefaults()
	if err := g.validate(); err != nil {
		return "", err
	}
	r := renderedGateway{Gateway: g, Routes: GatewayRoutes}
	for _, name := range []string{"auth", "catalog", "purchase"} {
		r.Services = append(r.Services, renderedService{Name: name, Servers: g.services()[name]})
	}
	var out bytes.Buffer
	if err := gatewayTmpl.Execute(&out, r); err != nil {
		return "", err
	}
	return out.String(), nil
}

// StackGateway is the gateway of the Swarm stack (infra/objective3/stack):
// the services by their Swarm names, resolved through Docker's DNS.
var StackGateway = Gateway{
	Listen:        "80",
	ProxyProtocol: true,
	HealthListen:  "127.0.0.1:81",
	Auth:          []string{"auth:8080"},
	Catalog:       []string{"catalog:8080"},
	Purchase:      []string{"purchase:8080"},
	Resolver:      "127.0.0.11",
}
