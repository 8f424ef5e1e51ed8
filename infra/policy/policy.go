// Package policy is the estate's security rules, checked on the offline plan
// of every objective (infra/plan): each rule is a function over the
// resources a program declares, independent of the program's own tests, so
// a defect the program's authors did not think of still fails `make test`
// and `make policy`. A violation names the rule and the resource.
package policy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/tet-bookstore/bookstore/infra/plan"
)

// Rule is one named check; Guards says which AWS behaviour it guards against.
type Rule struct {
	Name   string
	Guards string
	Check  func(resources []plan.Resource) []Violation
}

// Violation is one resource breaking one rule.
type Violation struct {
	Rule     string
	Type     string
	Resource string
	Reason   string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s %q: %s", v.Rule, v.Type, v.Resource, v.Reason)
}

// Rules are every rule, in the order they are reported.
func Rules() []Rule {
	return []Rule{
		noManagedPolicies,
		noWildcardSecretReads,
		secretsUnderStackKey,
		keyPolicyNamesItsUsers,
		imdsV2HopLimitOne,
		noOpenIngress,
		encryptedAtRest,
		noSecretInPlainText,
		logGroupsExpire,
		noPublicCleartextListener,
	}
}

// Check runs every rule on a plan; nil means it passes.
func Check(p *plan.Plan) []Violation {
	var out []Violation
	for _, r := range Rules() {
		out = append(out, r.Check(p.Resources)...)
	}
	return out
}

// Report is the violations one a line, sorted, for errors and `make policy`.
func Report(vs []Violation) string {
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.String()
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Types the rules read.
const (
	typeInstance         = "aws:ec2/instance:Instance"
	typeLaunchTemplate   = "aws:ec2/launchTemplate:LaunchTemplate"
	typeRolePolicy       = "aws:iam/rolePolicy:RolePolicy"
	typePolicyAttachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	typeRole             = "aws:iam/role:Role"
	typeParameter        = "aws:ssm/parameter:Parameter"
	typeSecret           = "aws:secretsmanager/secret:Secret"
	typeKey              = "aws:kms/key:Key"
	typeRDSCluster       = "aws:rds/cluster:Cluster"
	typeEFS              = "aws:efs/fileSystem:FileSystem"
	typeVolume           = "aws:ebs/volume:Volume"
	typeSGRule           = "aws:ec2/securityGroupRule:SecurityGroupRule"
	typeSG               = "aws:ec2/securityGroup:SecurityGroup"
	typeIngressRule      = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeLogGroup         = "aws:cloudwatch/logGroup:LogGroup"
	typeLoadBalancer     = "aws:lb/loadBalancer:LoadBalancer"
	typeListener         = "aws:lb/listener:Listener"
)

func violation(rule string, r plan.Resource, format string, args ...any) Violation {
	return Violation{Rule: rule, Type: r.Type, Resource: r.Name, Reason: fmt.Sprintf(format, args...)}
}

func ofType(rs []plan.Resource, types ...string) []plan.Resource {
	var out []plan.Resource
	for _, r := range rs {
		for _, t := range types {
			if r.Type == t {
				out = append(out, r)
			}
		}
	}
	return out
}

func str(v any) string         { s, _ := v.(string); return s }
func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { l, _ := v.([]any); return l }

// truthy reads a boolean input that providers sometimes type as a string
// (launch templates' "encrypted": "true").
func truthy(v any) bool { return v == true || v == "true" }

// document is an IAM or key policy; Action, Resource and Principal.AWS may
// be a string or a list in JSON, so they are read loosely.
type document struct {
	Statement []statementDoc
}

type statementDoc struct {
	Sid       string
	Effect    string
	Action    any
	Resource  any
	Principal any
	Condition map[string]map[string]any
}

func parseDocument(raw string) (document, error) {
	var d document
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return d, err
	}
	return d, nil
}

// strings of a JSON string-or-list value.
func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// principals are a statement's AWS principals ("*" for Principal "*").
func (s statementDoc) principals() []string {
	if p, ok := s.Principal.(string); ok {
		return []string{p}
	}
	m, _ := s.Principal.(map[string]any)
	return stringsOf(m["AWS"])
}
