package local

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/tet-bookstore/bookstore/infra/nginx"
)

// frontTLS says where the front's certificate is: the local CA's ("local")
// or certbot's live directory (ACME=pebble), and whether the front is still
// in its bootstrap configuration (port 80 answering HTTP-01 only, as the
// proxy VM before its certificate exists).
type frontTLS struct {
	tls       nginx.TLS
	webroot   string
	bootstrap bool
}

// writeNginxConfig renders the same sites as the proxy VM, with loopback
// listeners, the front's certificate and the layout's site wired to its
// upstream, followed by the layout's balancer if any; it returns nginx's
// arguments. One NGINX runs both: the front and the balancer are separate
// server blocks, as the proxy VM and the ALB are separate hops.
func writeNginxConfig(prefix string, o Options, l layout, front frontTLS) ([]string, error) {
	for _, d := range []string{prefix, filepath.Join(prefix, "logs"), filepath.Join(prefix, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
	}
	sites := nginx.ObjectiveSites("", "", "")
	for i := range sites {
		if sites[i].Name == l.site {
			sites[i].Upstream = l.upstream
		}
	}
	desc := nginx.Proxy{
		Domain: Domain,
		Sites:  sites,
		Listen: nginx.Listen{
			HTTP:            "127.0.0.1:" + strconv.Itoa(o.HTTPPort),
			HTTPS:           "127.0.0.1:" + strconv.Itoa(o.HTTPSPort),
			PublicHTTPSPort: o.HTTPSPort,
		},
		TLS:         front.tls,
		ACMEWebroot: front.webroot,
	}
	render := nginx.RenderSites
	if front.bootstrap {
		render = nginx.RenderBootstrap
	}
	conf, err := render(desc)
	if err != nil {
		return nil, err
	}
	if l.balancer != "" {
		conf += "\n" + l.balancer
	}
	sitesFile := filepath.Join(prefix, "sites.conf")
	mainConf, err := nginx.RenderMain(nginx.Main{Prefix: prefix, SitesFile: sitesFile, Foreground: true})
	if err != nil {
		return nil, err
	}
	mainFile := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(sitesFile, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(mainFile, []byte(mainConf), 0o644); err != nil {
		return nil, err
	}
	return []string{"-p", prefix + "/", "-c", mainFile, "-e", filepath.Join(prefix, "logs", "error.log")}, nil
}
