package plan_test

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/plan"
)

const root = "../.."

// The committed golden plans match what the program declares now, so every
// infrastructure change shows up in review as a golden-file diff.
func TestPlansMatchGoldenFiles(t *testing.T) {
	for n := 1; n <= 3; n++ {
		p, err := plan.Run(plan.Options{Objective: n, Root: root})
		if err != nil {
			t.Fatalf("objective %d: %v", n, err)
		}
		got, err := p.JSON()
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(plan.GoldenFile(root, n))
		if err != nil {
			t.Fatalf("objective %d has no golden plan: run `make plan-update` and commit infra/testdata: %v", n, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("the plan of objective %d differs from %s.\n"+
				"If the infrastructure change is intended, run `make plan-update` and commit the golden file.\n%s",
				n, plan.GoldenFile(root, n), firstDifference(string(want), string(got)))
		}
	}
}

func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "first difference at line " + strconv.Itoa(i+1) + ":\n- " + clip(wl, differAt(wl, gl)) + "\n+ " + clip(gl, differAt(wl, gl))
		}
	}
	return ""
}

// clip shows at most 300 characters of a line, a little before the first
// one that differs (user data is one long JSON string).
func clip(s string, at int) string {
	from := max(0, at-60)
	if from > len(s) {
		from = len(s)
	}
	to := min(len(s), from+300)
	out := s[from:to]
	if from > 0 {
		out = "..." + out
	}
	if to < len(s) {
		out += "..."
	}
	return out
}

func differAt(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// Two runs give byte-identical plans: fake ids, addresses and invokes are
// derived from names, and resources are sorted.
func TestPlanIsDeterministic(t *testing.T) {
	var first []byte
	for i := 0; i < 3; i++ {
		p, err := plan.Run(plan.Options{Objective: 1, Root: root})
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatal("two runs of the same plan differ")
		}
	}
}

// A recognizable secret never appears in any objective's plan; objective
// 1's SecureString parameters show "[secret]" in its place.
func TestPlanNeverShowsSecrets(t *testing.T) {
	secrets := map[string]string{
		"bookstore:dbPassword":    "TEST-SECRET-db-8f3a1c",
		"bookstore:duckdnsToken":  "TEST-SECRET-duck-77b2e0",
		"bookstore:adminPassword": "TEST-SECRET-admin-c0ffee",
	}
	for n := 1; n <= 3; n++ {
		p, err := plan.Run(plan.Options{Objective: n, Root: root, Secrets: secrets})
		if err != nil {
			t.Fatalf("objective %d: %v", n, err)
		}
		b, err := p.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "TEST-SECRET") {
			t.Fatalf("a secret value leaked into the plan of objective %d", n)
		}
		if n == 1 {
			if c := strings.Count(string(b), `"value": "[secret]"`); c != 3 {
				t.Errorf("want the 3 SecureString values shown as [secret], got %d", c)
			}
		}
	}
}
