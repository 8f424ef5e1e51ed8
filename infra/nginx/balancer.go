package nginx

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Balancer is an NGINX load balancer in front of interchangeable app
// instances: the local rehearsal's stand-in for objective 2's ALB. It is
// rendered as a file for the `http` context that sets everything it relies
// on inside its own blocks, so it can sit next to the proxy's sites.
type Balancer struct {
	// Name names the upstream group, e.g. "objective2".
	Name string
	// Listen is where the balancer accepts plain HTTP, e.g. "127.0.0.1:9000".
	Listen string
	// Servers are the instances' HOST:PORT, served round robin.
	Servers []string
	// MaxFails failed attempts within FailTimeout take a server out of the
	// rotation for FailTimeout (passive health: open-source NGINX has no
	// active checks). Defaults 1 and 10s.
	MaxFails    int
	FailTimeout time.Duration
	// ConnectTimeout is short so a dead instance costs a request little
	// before it is retried elsewhere; default 1s.
	ConnectTimeout time.Duration
	// ReadTimeout bounds a response; default 60s (the app's write timeout).
	ReadTimeout time.Duration
	// MaxBodySize bounds request bodies; default "10m", above the app's own
	// limits (2 MiB covers), so the app judges uploads and answers in its
	// format.
	MaxBodySize string
	// ExposeUpstream adds X-Upstream-Addr and X-Upstream-Status to every
	// answer: which instances a request tried. For rehearsals and tests
	// only; a public balancer must not tell clients its internal addresses.
	ExposeUpstream bool
}

func (b Balancer) withDefaults() Balancer {
	if b.MaxFails == 0 {
		b.MaxFails = 1
	}
	if b.FailTimeout == 0 {
		b.FailTimeout = 10 * time.Second
	}
	if b.ConnectTimeout == 0 {
		b.ConnectTimeout = time.Second
	}
	if b.ReadTimeout == 0 {
		b.ReadTimeout = 60 * time.Second
	}
	if b.MaxBodySize == "" {
		b.MaxBodySize = "10m"
	}
	return b
}

// validate rejects values that could break out of their directive or that
// NGINX would refuse only at start-up.
func (b Balancer) validate() error {
	if !labelPattern.MatchString(b.Name) {
		return fmt.Errorf("nginx: balancer name %q is not a plain name", b.Name)
	}
	if err := validListen(b.Listen); err != nil {
		return err
	}
	if len(b.Servers) == 0 {
		return fmt.Errorf("nginx: balancer %s has no servers", b.Name)
	}
	seen := map[string]bool{}
	for _, s := range b.Servers {
		if err := validUpstream(s); err != nil {
			return fmt.Errorf("nginx: balancer %s: %w", b.Name, err)
		}
		if seen[s] {
			return fmt.Errorf("nginx: balancer %s lists server %s twice", b.Name, s)
		}
		seen[s] = true
	}
	if b.MaxFails < 1 {
		return fmt.Errorf("nginx: balancer %s: max fails must be at least 1, got %d", b.Name, b.MaxFails)
	}
	if b.FailTimeout < time.Second || b.FailTimeout%time.Second != 0 {
		return fmt.Errorf("nginx: balancer %s: fail timeout must be whole seconds (NGINX's unit for it), got %s", b.Name, b.FailTimeout)
	}
	for name, d := range map[string]time.Duration{"connect timeout": b.ConnectTimeout, "read timeout": b.ReadTimeout} {
		if d < time.Millisecond {
			return fmt.Errorf("nginx: balancer %s: %s must be at least 1ms, got %s", b.Name, name, d)
		}
	}
	if !sizePattern.MatchString(b.MaxBodySize) {
		return fmt.Errorf("nginx: body size %q is not an NGINX size", b.MaxBodySize)
	}
	return nil
}

//go:embed balancer.conf.tmpl
var balancerTemplate string

var balancerTmpl = template.Must(template.New("balancer").Funcs(template.FuncMap{
	"ms":      func(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) },
	"seconds": func(d time.Duration) string { return fmt.Sprintf("%ds", int64(d/time.Second)) },
	// ident: a balancer's name as part of an NGINX variable (no hyphens).
	"ident": func(name string) string { return strings.ReplaceAll(name, "-", "_") },
}).Parse(balancerTemplate))

// RenderBalancer renders the balancer's upstream and server blocks.
func RenderBalancer(b Balancer) (string, error) {
	b = b.withDefaults()
	if err := b.validate(); err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := balancerTmpl.Execute(&out, b); err != nil {
		return "", err
	}
	return out.String(), nil
}
