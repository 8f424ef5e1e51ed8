package objective1

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/firewall"
)

type securityGroups struct{ proxy, app *firewall.Group }

// newSecurityGroups: the world reaches the proxy on 80/443 only; the app port
// admits the proxy's group only; SSH exists only when sshCidr is configured.
func newSecurityGroups(ctx *pulumi.Context, cfg *config.Config, vpc pulumi.IDOutput) (*securityGroups, error) {
	proxyRules := []firewall.Rule{
		{Name: "http", Port: 80, FromCidr: "0.0.0.0/0", Description: "HTTP: ACME challenges and redirects to HTTPS"},
		{Name: "https", Port: 443, FromCidr: "0.0.0.0/0", Description: "HTTPS: the store"},
	}
	proxy, err := firewall.New(ctx, "proxy", &firewall.Args{
		VpcID:       vpc,
		Description: "NGINX proxy: HTTP and HTTPS from anywhere",
		Ingress:     append(proxyRules, sshRules(cfg)...),
		Public:      true, // the estate's only public entry
	})
	if err != nil {
		return nil, err
	}
	app, err := firewall.New(ctx, "app", &firewall.Args{
		VpcID:       vpc,
		Description: "Bookstore app: its port from the proxy only",
		Ingress: append([]firewall.Rule{
			{Name: "from-proxy", Port: cfg.App.Port, FromGroup: proxy.ID, Description: "the app port, from the proxy's group"},
		}, sshRules(cfg)...),
	})
	if err != nil {
		return nil, err
	}
	return &securityGroups{proxy: proxy, app: app}, nil
}

func sshRules(cfg *config.Config) []firewall.Rule {
	if cfg.SSHCidr == "" {
		return nil
	}
	return []firewall.Rule{{Name: "ssh", Port: 22, FromCidr: cfg.SSHCidr, Description: "SSH from bookstore:sshCidr"}}
}
