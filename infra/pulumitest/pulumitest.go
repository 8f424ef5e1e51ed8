// Package pulumitest runs one component under the Pulumi SDK's mocks and
// records what it declares, so a component's tests can assert on resolved
// inputs without the whole program (infra/plan does that for objectives).
package pulumitest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one declared resource with its inputs as plain Go values
// (numbers are float64, secrets and unknowns as the SDK maps them).
type Resource struct {
	Type, Name    string
	Inputs        map[string]any
	IgnoreChanges []string
	Parent        string
	DependsOn     []string // URNs
}

// Mocks records registrations; Outputs adds computed outputs per type.
type Mocks struct {
	// Outputs returns extra output properties for a resource (endpoints,
	// DNS names); nil adds none.
	Outputs func(typ, name string, inputs resource.PropertyMap) map[string]any
	// Calls answers data sources beyond the availability zones.
	Calls func(token string, args resource.PropertyMap) (map[string]any, error)

	mu        sync.Mutex
	resources []Resource
}

// NewResource records the resource and echoes its inputs as its state.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := Resource{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs.Mappable()}
	if rpc := args.RegisterRPC; rpc != nil {
		r.IgnoreChanges, r.Parent, r.DependsOn = rpc.GetIgnoreChanges(), rpc.GetParent(), rpc.GetDependencies()
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	state := args.Inputs.Copy()
	short := args.TypeToken[strings.LastIndex(args.TypeToken, ":")+1:]
	state["arn"] = resource.NewStringProperty(fmt.Sprintf("arn:aws:mock:us-east-1:123456789012:%s/%s", strings.ToLower(short), args.Name))
	if m.Outputs != nil {
		for k, v := range m.Outputs(args.TypeToken, args.Name, args.Inputs) {
			state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
	}
	return args.Name + "-id", state, nil
}

// Call answers getAvailabilityZones with three zones, the rest through Calls.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if args.Token == "aws:index/getAvailabilityZones:getAvailabilityZones" {
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": "us-east-1", "names": []any{"us-east-1a", "us-east-1b", "us-east-1c"},
		}), nil
	}
	if m.Calls != nil {
		out, err := m.Calls(args.Token, args.Args)
		return resource.NewPropertyMapFromMap(out), err
	}
	return nil, fmt.Errorf("pulumitest: no mock for %s", args.Token)
}

// Run runs program under m and returns m; a program error fails the test.
func Run(t *testing.T, m *Mocks, program func(ctx *pulumi.Context) error) *Mocks {
	t.Helper()
	if m == nil {
		m = &Mocks{}
	}
	if err := pulumi.RunErr(program, pulumi.WithMocks("bookstore", "test", m)); err != nil {
		t.Fatal(err)
	}
	return m
}

// Find returns the resources of a type whose name is name, or all of the
// type when name is "".
func (m *Mocks) Find(typ, name string) []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Resource
	for _, r := range m.resources {
		if r.Type == typ && (name == "" || r.Name == name) {
			out = append(out, r)
		}
	}
	return out
}

// One is the single resource of that type and name, or fails the test.
func (m *Mocks) One(t *testing.T, typ, name string) Resource {
	t.Helper()
	rs := m.Find(typ, name)
	if len(rs) != 1 {
		t.Fatalf("want one %s %q, found %d", typ, name, len(rs))
	}
	return rs[0]
}

// Map and Str read nested plain values without ceremony.
func Map(v any) map[string]any { m, _ := v.(map[string]any); return m }

// Str is v as a string, "" when it is not one.
func Str(v any) string { s, _ := v.(string); return s }

// List is v as a list.
func List(v any) []any { l, _ := v.([]any); return l }
