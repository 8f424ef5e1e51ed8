// Package plantest reads a plan in tests: one resource by type and name,
// and the untyped JSON values of its inputs.
package plantest

import (
	"testing"

	"github.com/tet-bookstore/bookstore/infra/plan"
)

// One returns the one resource of typ named name, failing the test unless
// there is exactly one.
func One(t testing.TB, p *plan.Plan, typ, name string) plan.Resource {
	t.Helper()
	rs := p.Find(typ, name)
	if len(rs) != 1 {
		t.Fatalf("want one %s %q, found %d", typ, name, len(rs))
	}
	return rs[0]
}

// Str, Obj and List read an input value as a string, an object or a list;
// anything else reads as the zero value.
func Str(v any) string         { s, _ := v.(string); return s }
func Obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func List(v any) []any         { l, _ := v.([]any); return l }
