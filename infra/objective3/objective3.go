// Package objective3 will declare the microservices on a Docker Swarm cluster.
// It is built under issue 5; until then Run fails with a clear message.
package objective3

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
)

// NotImplementedError says which issue builds this objective.
type NotImplementedError struct{}

func (NotImplementedError) Error() string {
	return "objective 3 is not implemented yet, see issue 5"
}

// NotImplemented marks the error for the plan command.
func (NotImplementedError) NotImplemented() bool { return true }

// Run declares objective 3's resources.
func Run(ctx *pulumi.Context, cfg *config.Config) error {
	return NotImplementedError{}
}
