// The bookstore's Pulumi program (Pulumi.yaml: runtime go, main infra/).
// Everything happens in package program so the offline plan runs the same code.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/program"
)

func main() {
	pulumi.Run(program.Run)
}
