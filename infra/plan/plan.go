// Package plan runs the real Pulumi program under the SDK's mock monitor and
// turns what it declared into deterministic JSON: the offline plan that
// reviewers and CI read without cloud credentials, and the golden files that
// make every infrastructure change visible in a pull request.
package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/encoding"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/program"
)

// Plan is what one objective's program declares.
type Plan struct {
	Objective int            `json:"objective"`
	Resources []Resource     `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
}

// Resource is one declared resource: its Pulumi type token, logical name and
// input properties (secrets shown as "[secret]").
type Resource struct {
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	Inputs map[string]any `json:"inputs"`
	// IgnoreChanges and DependsOn (URNs) are resource options, for tests.
	IgnoreChanges []string `json:"-"`
	DependsOn     []string `json:"-"`
	// ID and State are what the mocks answered (the fake id, the inputs
	// plus computed ARNs and names), so checks can follow a reference
	// (a rule's securityGroupId, a parameter's keyId) to its resource.
	ID    string         `json:"-"`
	State map[string]any `json:"-"`
}

// Secret is how a secret value appears in a plan.
const Secret = "[secret]"

// Options says which stack to plan and with what configuration.
type Options struct {
	Objective int
	// Root holds Pulumi.objectiveN.yaml; default the repository root.
	Root string
	// Config overrides or adds keys (bookstore:sshCidr ...) over the
	// example stack file.
	Config map[string]string
	// Secrets are the values of secret keys; keys missing here get the
	// mock values of MockSecrets.
	Secrets map[string]string
	// StackReferences are the outputs of other stacks, by stack name.
	StackReferences map[string]map[string]any
	// Unset removes keys (mock secrets included), to plan a stack whose
	// operator forgot one.
	Unset []string
}

// MockSecrets stand in for `pulumi config set --secret` values, which an
// example stack file cannot hold.
var MockSecrets = map[string]string{
	"bookstore:dbPassword":    "mock-db-password",
	"bookstore:duckdnsToken":  "mock-duckdns-token",
	"bookstore:adminPassword": "mock-admin-password",
}

// StackFile is the example configuration of an objective's stack.
func StackFile(root string, objective int) string {
	return filepath.Join(root, fmt.Sprintf("Pulumi.objective%d.yaml", objective))
}

// GoldenFile is the committed plan of an objective.
func GoldenFile(root string, objective int) string {
	return filepath.Join(root, "infra", "testdata", fmt.Sprintf("plan-objective%d.json", objective))
}

// Run plans one objective.
func Run(opts Options) (*Plan, error) {
	stack := fmt.Sprintf("objective%d", opts.Objective)
	cfg, err := stackConfig(StackFile(opts.Root, opts.Objective))
	if err != nil {
		return nil, err
	}
	for k, v := range opts.Config {
		cfg[k] = v
	}
	var secretKeys []string
	for k, v := range MockSecrets {
		cfg[k] = v
		secretKeys = append(secretKeys, k)
	}
	for k, v := range opts.Secrets {
		cfg[k] = v
		secretKeys = append(secretKeys, k)
	}
	for _, k := range opts.Unset {
		delete(cfg, k)
		secretKeys = slices.DeleteFunc(secretKeys, func(s string) bool { return s == k })
	}
	sort.Strings(secretKeys)
	region := cfg["aws:region"]
	if region == "" {
		region = "us-east-1"
	}
	m := &mocks{region: region, stackReferences: opts.StackReferences}
	ctx, err := pulumi.NewContext(context.Background(), pulumi.RunInfo{
		Project:          "bookstore",
		Stack:            stack,
		Config:           cfg,
		ConfigSecretKeys: secretKeys,
		Mocks:            m,
	})
	if err != nil {
		return nil, err
	}
	defer ctx.Close()
	if err := pulumi.RunWithContext(ctx, program.Run); err != nil {
		return nil, unwrapMulti(err)
	}
	outputs, err := resolveExports(ctx)
	if err != nil {
		return nil, err
	}
	p := &Plan{Objective: opts.Objective, Outputs: outputs, Resources: []Resource{}}
	for _, r := range m.resources {
		p.Resources = append(p.Resources, Resource{
			Type: r.typ, Name: r.name, Inputs: plainMap(r.inputs), IgnoreChanges: r.ignoreChanges, DependsOn: r.dependsOn,
			ID: r.id, State: plainMap(r.state),
		})
	}
	sort.SliceStable(p.Resources, func(i, j int) bool {
		a, b := p.Resources[i], p.Resources[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Name < b.Name
	})
	return p, nil
}

// JSON is the plan as committed in the golden files.
func (p *Plan) JSON() ([]byte, error) {
	// Not HTML-escaped: user data and NGINX sites stay readable in review.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Find returns the resources of a type, or one named resource when name is set.
func (p *Plan) Find(typ, name string) []Resource {
	var out []Resource
	for _, r := range p.Resources {
		if r.Type == typ && (name == "" || r.Name == name) {
			out = append(out, r)
		}
	}
	return out
}

// stackConfig reads the `config:` map of a stack file into Pulumi's flat
// form: scalars as strings, objects and lists as JSON.
func stackConfig(file string) (map[string]string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	var doc struct {
		Config map[string]any `yaml:"config"` // Pulumi's own YAML reader: no module of our own
	}
	if err := encoding.YAML.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("plan: %s: %w", file, err)
	}
	cfg := map[string]string{}
	for k, v := range doc.Config {
		switch v := v.(type) {
		case string:
			cfg[k] = v
		case bool:
			cfg[k] = strconv.FormatBool(v)
		case int:
			cfg[k] = strconv.Itoa(v)
		case float64:
			cfg[k] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			if m, ok := v.(map[string]any); ok {
				if _, secure := m["secure"]; secure {
					continue // an encrypted value: the mock secret stands in
				}
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("plan: %s: %s: %w", file, k, err)
			}
			cfg[k] = string(b)
		}
	}
	return cfg, nil
}

// resolveExports awaits the stack outputs; secret ones show as "[secret]".
func resolveExports(ctx *pulumi.Context) (map[string]any, error) {
	out := map[string]any{}
	for name, input := range ctx.GetCurrentExportMap() {
		o := pulumi.ToOutput(input)
		if pulumi.IsSecret(o) {
			out[name] = Secret
			continue
		}
		ch := make(chan any, 1)
		o.ApplyT(func(v any) any { ch <- v; return nil })
		select {
		case v := <-ch:
			// Through JSON, so ids and typed strings become plain data.
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("plan: output %s: %w", name, err)
			}
			var plainValue any
			if err := json.Unmarshal(b, &plainValue); err != nil {
				return nil, err
			}
			out[name] = plainValue
		case <-time.After(30 * time.Second):
			return nil, fmt.Errorf("plan: output %s never resolved", name)
		}
	}
	return out, nil
}

func plainMap(m resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[string(k)] = plain(v)
	}
	return out
}

// plain turns a property value into JSON-ready data.
func plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return Secret
	case v.IsOutput():
		o := v.OutputValue()
		switch {
		case o.Secret:
			return Secret
		case !o.Known:
			return "[unknown]"
		}
		return plain(o.Element)
	case v.IsComputed():
		return "[unknown]"
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		n := v.NumberValue()
		if n == float64(int64(n)) {
			return int64(n)
		}
		return n
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		out := []any{}
		for _, e := range v.ArrayValue() {
			out = append(out, plain(e))
		}
		return out
	case v.IsObject():
		return plainMap(v.ObjectValue())
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsAsset(), v.IsArchive():
		return "[asset]"
	}
	return fmt.Sprintf("%v", v.V)
}

// unwrapMulti turns the SDK's "1 error occurred: * ..." into the error
// itself, so a failed plan reads as one line.
func unwrapMulti(err error) error {
	var multi interface{ WrappedErrors() []error }
	if errors.As(err, &multi) {
		if errs := multi.WrappedErrors(); len(errs) == 1 {
			return errs[0]
		}
		return errors.Join(multi.WrappedErrors()...)
	}
	return err
}
