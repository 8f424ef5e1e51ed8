// Command plan prints the offline plan of an objective: the resources the
// real Pulumi program declares, run under mocks with the example stack
// configuration. No cloud credentials are needed.
//
//	go run ./infra/cmd/plan --objective 1           # JSON on stdout
//	go run ./infra/cmd/plan --objective 1 --update  # rewrite the golden file
//	go run ./infra/cmd/plan --objective all --update
//
// Exit status: 0 planned, 1 failed (one line on stderr).
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/tet-bookstore/bookstore/infra/plan"
)

func main() {
	objective := flag.String("objective", "1", "objective to plan: 1, 2, 3, or all")
	update := flag.Bool("update", false, "rewrite infra/testdata/plan-objectiveN.json instead of printing")
	root := flag.String("root", ".", "repository root (where Pulumi.objectiveN.yaml are)")
	flag.Parse()
	os.Exit(run(*objective, *update, *root))
}

func run(objective string, update bool, root string) int {
	if objective == "all" {
		for n := 1; n <= 3; n++ {
			if code := planOne(n, update, root); code != 0 {
				return code
			}
		}
		return 0
	}
	n, err := strconv.Atoi(objective)
	if err != nil || n < 1 || n > 3 {
		fmt.Fprintf(os.Stderr, "plan: --objective must be 1, 2, 3 or all, got %q\n", objective)
		return 1
	}
	return planOne(n, update, root)
}

func planOne(n int, update bool, root string) int {
	p, err := plan.Run(plan.Options{Objective: n, Root: root})
	if err != nil {
		fmt.Fprintf(os.Stderr, "plan: objective %d: %v\n", n, err)
		return 1
	}
	out, err := p.JSON()
	if err != nil {
		fmt.Fprintf(os.Stderr, "plan: %v\n", err)
		return 1
	}
	if !update {
		_, _ = os.Stdout.Write(out)
		return 0
	}
	file := plan.GoldenFile(root, n)
	if err := os.WriteFile(file, out, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "plan: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "plan: wrote %s\n", file)
	return 0
}
