// Package program is the Pulumi program: it reads the configuration once and
// runs the stack's objective. `pulumi up` (infra/main.go) and the offline
// plan (infra/cmd/plan) both call Run.
package program

import (
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/objective1"
	"github.com/tet-bookstore/bookstore/infra/objective2"
	"github.com/tet-bookstore/bookstore/infra/objective3"
)

// ErrNotImplemented is returned for objectives whose program is not written yet.
var ErrNotImplemented = errors.New("not implemented yet")

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
		return notImplemented(objective2.Run(ctx, cfg))
	default:
		return notImplemented(objective3.Run(ctx, cfg))
	}
}

// notImplemented tags the objectives' "not yet" errors with ErrNotImplemented
// so the plan command can tell them from real failures.
func notImplemented(err error) error {
	var ni interface{ NotImplemented() bool }
	if errors.As(err, &ni) && ni.NotImplemented() {
		return notImplementedError{err}
	}
	return err
}

// notImplementedError keeps the objective's own message and is ErrNotImplemented.
type notImplementedError struct{ err error }

func (e notImplementedError) Error() string        { return e.err.Error() }
func (e notImplementedError) Unwrap() error        { return e.err }
func (e notImplementedError) Is(target error) bool { return target == ErrNotImplemented }
