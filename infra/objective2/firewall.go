package objective2

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/firewall"
)

type securityGroups struct{ alb, app, builder *firewall.Group }

// newSecurityGroups: HTTP reaches the internal ALB from the proxy only; the app port admits the ALB's group only;
// the image builder admits nothing. Aurora and EFS get their own groups,
// admitting the app's (see data.go).
func newSecurityGroups(ctx *pulumi.Context, cfg *config.Config, s *settings, vpc pulumi.IDOutput) (*securityGroups, error) {
	from, why := s.ProxyCidr, "HTTP from the objective 1 proxy, over the VPC peering (bookstore:proxyCidr)"
	alb, err := firewall.New(ctx, "alb", &firewall.Args{
		VpcID:       vpc,
		Description: "Load balancer: HTTP from the proxy",
		Ingress:     []firewall.Rule{{Name: "http", Port: 80, FromCidr: from, Description: why}},
	})
	if err != nil {
		return nil, err
	}
	app, err := firewall.New(ctx, "app", &firewall.Args{
		VpcID:       vpc,
		Description: "Bookstore instances: the app port from the load balancer only",
		Ingress:     []firewall.Rule{{Name: "from-alb", Port: cfg.App.Port, FromGroup: alb.ID, Description: "the app port, from the load balancer's group"}},
	})
	if err != nil {
		return nil, err
	}
	builder, err := firewall.New(ctx, "image-builder", &firewall.Args{
		VpcID:       vpc,
		Description: "Image builder: no inbound traffic, outbound for packages and the release",
	})
	if err != nil {
		return nil, err
	}
	return &securityGroups{alb: alb, app: app, builder: builder}, nil
}
