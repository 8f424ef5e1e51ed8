// Package program is the Pulumi program: it reads the configuration once and
// runs the stack's objective. `pulumi up` (infra/main.go) and the offline
// plan (infra/cmd/plan) both call Run.
package program

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/objective1"
	"github.com/tet-bookstore/bookstore/infra/objective2"
	"github.com/tet-bookstore/bookstore/infra/objective3"
)

// Run is the body of the Pulumi program.
func Run(ctx *pulumi.Context) error {
	cfg, err := config.Load(ctx)
	if err != nil {
		return err
	}
	switch cfg.Objective {
	case 1:
		return objective1.Run(ctx, cfg)
	case 2:
		return objective2.Run(ctx, cfg)
	default:
		return objective3.Run(ctx, cfg)
	}
}
