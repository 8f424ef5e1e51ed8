// Command policy runs the policy pack (infra/policy) on the offline plan of
// every objective, as `make policy` does: exit 1 and one line per violation
// (rule: type "name": reason) when a rule breaks.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tet-bookstore/bookstore/infra/plan"
	"github.com/tet-bookstore/bookstore/infra/policy"
)

func main() {
	root := flag.String("root", ".", "repository root (holds Pulumi.objectiveN.yaml)")
	flag.Parse()
	failed := false
	for _, objective := range []int{1, 2, 3} {
		p, err := plan.Run(plan.Options{Objective: objective, Root: *root})
		if err != nil {
			fmt.Fprintf(os.Stderr, "policy: objective %d: %v\n", objective, err)
			os.Exit(1)
		}
		if vs := policy.Check(p); len(vs) > 0 {
			failed = true
			fmt.Printf("objective %d:\n%s\n", objective, policy.Report(vs))
			continue
		}
		fmt.Printf("objective %d: %d resources, %d rules, no violation\n", objective, len(p.Resources), len(policy.Rules()))
	}
	if failed {
		os.Exit(1)
	}
}
