package policy

import (
	"path"
	"strings"

	"github.com/tet-bookstore/bookstore/infra/plan"
)

// readsSecrets are the actions that hand out a secret's value.
var readsSecrets = []string{
	"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory",
	"secretsmanager:GetSecretValue", "kms:Decrypt",
}

// cryptoActions are what a key policy must give only to named roles.
// kms:CreateGrant is one: a grant gives Decrypt without the policy's
// conditions, so whoever may create grants may use the key.
var cryptoActions = []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:CreateGrant"}

// covers: an IAM action pattern (with * and ?, case-insensitive) matches action.
func covers(pattern, action string) bool {
	ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(action))
	return ok
}

func coversAny(patterns, actions []string) []string {
	var hit []string
	for _, a := range actions {
		for _, p := range patterns {
			if covers(p, a) {
				hit = append(hit, a)
				break
			}
		}
	}
	return hit
}

// AWS-managed policies such as AmazonSSMManagedInstanceCore allow
// ssm:GetParameter(s) on every parameter of the account: no role gets one.
var noManagedPolicies = Rule{
	Name:   "no-aws-managed-policies",
	Guards: "AWS-managed policies (AmazonSSMManagedInstanceCore) allow ssm:GetParameter(s) on every parameter of the account",
	Check: func(rs []plan.Resource) []Violation {
		var out []Violation
		for _, r := range ofType(rs, typePolicyAttachment) {
			out = append(out, violation("no-aws-managed-policies", r, "attaches %s; grant what the role needs inline instead", str(r.Inputs["policyArn"])))
		}
		for _, r := range ofType(rs, typeRole) {
			for _, arn := range stringsOf(r.Inputs["managedPolicyArns"]) {
				out = append(out, violation("no-aws-managed-policies", r, "attaches %s", arn))
			}
		}
		return out
	},
}

// A wildcard resource on a secret-reading action reads every parameter
// and secret of the account, other stacks' included.
var noWildcardSecretReads = Rule{
	Name:   "no-wildcard-secret-reads",
	Guards: "IAM grants ssm:GetParameter, secretsmanager:GetSecretValue or kms:Decrypt on * across every stack of the account",
	Check: func(rs []plan.Resource) []Violation {
		var out []Violation
		for _, r := range ofType(rs, typeRolePolicy) {
			doc, err := parseDocument(str(r.Inputs["policy"]))
			if err != nil {
				out = append(out, violation("no-wildcard-secret-reads", r, "policy is not a readable JSON document: %v", err))
				continue
			}
			for _, s := range doc.Statement {
				if s.Effect != "Allow" {
					continue
				}
				hit := coversAny(stringsOf(s.Action), readsSecrets)
				if len(hit) == 0 {
					continue
				}
				for _, res := range stringsOf(s.Resource) {
					if strings.Contains(res, "*") {
						out = append(out, violation("no-wildcard-secret-reads", r, "allows %s on %q; name each parameter, secret or key", strings.Join(hit, ","), res))
					}
				}
			}
		}
		return out
	},
}

// The AWS-managed aws/ssm and aws/secretsmanager keys let every principal
// of the account decrypt through the service: each secret is under a
// customer-managed key of its stack instead.
var secretsUnderStackKey = Rule{
	Name:   "secrets-under-stack-key",
	Guards: "the AWS-managed aws/ssm and aws/secretsmanager keys let any principal of the account decrypt, leaving IAM as the only fence",
	Check: func(rs []plan.Resource) []Violation {
		keys := map[string]plan.Resource{}
		for _, k := range ofType(rs, typeKey) {
			keys[str(k.State["arn"])] = k
			keys[k.ID] = k
		}
		// An alias this stack declares names its key (the Swarm nodes
		// write SecureStrings with --key-id alias/..., and Pulumi declares
		// the same): it counts as that key.
		for _, a := range ofType(rs, "aws:kms/alias:Alias") {
			if k, ok := keys[str(a.Inputs["targetKeyId"])]; ok {
				keys[str(a.Inputs["name"])] = k
			}
		}
		check := func(r plan.Resource, input string) []Violation {
			id := str(r.Inputs[input])
			k, ok := keys[id]
			switch {
			case id == "" || strings.HasPrefix(id, "alias/aws/"):
				return []Violation{violation("secrets-under-stack-key", r, "%s is the AWS-managed key; use the stack's customer-managed key", input)}
			case !ok:
				return []Violation{violation("secrets-under-stack-key", r, "%s %q is not a key this stack declares", input, id)}
			}
			_ = k // its rotation and policy are key-policy-names-its-users'
			return nil
		}
		var out []Violation
		for _, r := range ofType(rs, typeParameter) {
			if str(r.Inputs["type"]) == "SecureString" {
				out = append(out, check(r, "keyId")...)
			}
		}
		for _, r := range ofType(rs, typeSecret) {
			out = append(out, check(r, "kmsKeyId")...)
		}
		for _, r := range ofType(rs, typeRDSCluster) {
			if truthy(r.Inputs["manageMasterUserPassword"]) {
				out = append(out, check(r, "masterUserSecretKmsKeyId")...)
			}
		}
		return out
	},
}

// A key policy statement giving the account root (or "*") cryptographic
// use lets any IAM policy of the account, an administrator's or CI's,
// decrypt: use is granted to named principals only.
var keyPolicyNamesItsUsers = Rule{
	Name:   "key-policy-names-its-users",
	Guards: "a key policy granting kms:Decrypt to the account root delegates it to every IAM policy of the account; a key without rotation keeps its material forever",
	Check: func(rs []plan.Resource) []Violation {
		var out []Violation
		for _, k := range ofType(rs, typeKey) {
			if !truthy(k.Inputs["enableKeyRotation"]) {
				out = append(out, violation("key-policy-names-its-users", k, "key rotation is off"))
			}
			raw := str(k.Inputs["policy"])
			if raw == "" {
				out = append(out, violation("key-policy-names-its-users", k, "no key policy: AWS's default gives the account root kms:*"))
				continue
			}
			doc, err := parseDocument(raw)
			if err != nil {
				out = append(out, violation("key-policy-names-its-users", k, "key policy is not readable JSON: %v", err))
				continue
			}
			for _, s := range doc.Statement {
				if s.Effect != "Allow" {
					continue
				}
				hit := coversAny(stringsOf(s.Action), cryptoActions)
				if len(hit) == 0 {
					continue
				}
				for _, p := range s.principals() {
					if p == "*" || strings.HasSuffix(p, ":root") && !namesPrincipals(s) {
						out = append(out, violation("key-policy-names-its-users", k, "statement %q gives %s to %s without naming the roles (aws:PrincipalArn)", s.Sid, strings.Join(hit, ","), p))
					}
				}
			}
		}
		return out
	},
}

// namesPrincipals: the statement is limited to exact principal ARNs.
func namesPrincipals(s statementDoc) bool {
	for op, conds := range s.Condition {
		if op != "ArnEquals" && op != "StringEquals" {
			continue
		}
		arns := stringsOf(conds["aws:PrincipalArn"])
		if len(arns) == 0 {
			continue
		}
		for _, a := range arns {
			if strings.ContainsAny(a, "*?") || strings.HasSuffix(a, ":root") {
				return false
			}
		}
		return true
	}
	return false
}
