package policy_test

import (
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/plan"
	"github.com/tet-bookstore/bookstore/infra/policy"
)

// The plans of every objective, as `make plan` makes them, pass every rule.
func TestEveryObjectivePasses(t *testing.T) {
	for _, objective := range []int{1, 2, 3} {
		p, err := plan.Run(plan.Options{Objective: objective, Root: "../.."})
		if err != nil {
			t.Fatalf("objective %d: %v", objective, err)
		}
		if vs := policy.Check(p); len(vs) > 0 {
			t.Errorf("objective %d breaks the policy:\n%s", objective, policy.Report(vs))
		}
	}
}

func res(typ, name string, inputs map[string]any) plan.Resource {
	return plan.Resource{Type: typ, Name: name, Inputs: inputs, ID: name + "-id", State: map[string]any{"arn": "arn:" + name}}
}

const (
	goodKeyPolicy = `{"Statement":[{"Sid":"Administer","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["kms:Describe*","kms:PutKeyPolicy"],"Resource":"*"},` +
		`{"Sid":"Use","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["kms:Decrypt"],"Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":["arn:aws:iam::123456789012:role/app"]}}}]}`
	sessionManager = `{"Statement":[{"Effect":"Allow","Action":["ssm:UpdateInstanceInformation","ssmmessages:OpenDataChannel"],"Resource":"*"}]}`
	imds           = "metadataOptions"
)

// good is a small plan that passes every rule; each case breaks one thing.
func good() []plan.Resource {
	key := res("aws:kms/key:Key", "secrets", map[string]any{"enableKeyRotation": true, "policy": goodKeyPolicy})
	return []plan.Resource{
		key,
		res("aws:ec2/securityGroup:SecurityGroup", "proxy", map[string]any{"tags": map[string]any{policy.PublicEntryTag: "public"}}),
		res("aws:ec2/securityGroupRule:SecurityGroupRule", "proxy-https", map[string]any{"type": "ingress", "protocol": "tcp", "fromPort": int64(443), "toPort": int64(443), "cidrBlocks": []any{"0.0.0.0/0"}, "securityGroupId": "proxy-id"}),
		res("aws:ec2/instance:Instance", "vm", map[string]any{
			imds:              map[string]any{"httpTokens": "required", "httpPutResponseHopLimit": int64(1)},
			"rootBlockDevice": map[string]any{"encrypted": true},
			"userData":        "#!/bin/bash\nDB_PASSWORD=$(ssm_get /x/db-password)\nBOOKSTORE_ADMIN_PASSWORD=${ADMIN_PASSWORD}\n",
		}),
		res("aws:iam/rolePolicy:RolePolicy", "vm-session-manager", map[string]any{"policy": sessionManager}),
		res("aws:iam/rolePolicy:RolePolicy", "vm-read", map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Action":"ssm:GetParameter","Resource":["arn:aws:ssm:us-east-1:123456789012:parameter/x/db-password"]}]}`}),
		res("aws:ssm/parameter:Parameter", "db-password", map[string]any{"name": "/x/db-password", "type": "SecureString", "value": plan.Secret, "keyId": "arn:secrets"}),
		res("aws:ssm/parameter:Parameter", "release", map[string]any{"name": "/x/app-release", "type": "String", "insecureValue": "url=https://example.org/bookstore"}),
		res("aws:secretsmanager/secret:Secret", "admin", map[string]any{"kmsKeyId": "arn:secrets"}),
		res("aws:efs/fileSystem:FileSystem", "files", map[string]any{"encrypted": true}),
		res("aws:cloudwatch/logGroup:LogGroup", "rds-error", map[string]any{"name": "/aws/rds/cluster/db/error", "retentionInDays": int64(30)}),
		{Type: "aws:rds/cluster:Cluster", Name: "db", Inputs: map[string]any{
			"clusterIdentifier": "db", "storageEncrypted": true, "manageMasterUserPassword": true, "masterUserSecretKmsKeyId": "arn:secrets",
			"enabledCloudwatchLogsExports": []any{"error"},
		}, DependsOn: []string{"urn:pulumi:s::p::aws:cloudwatch/logGroup:LogGroup::rds-error"}},
		res("aws:lb/loadBalancer:LoadBalancer", "alb", map[string]any{"internal": true}),
		res("aws:lb/listener:Listener", "http", map[string]any{"protocol": "HTTP", "loadBalancerArn": "arn:alb"}),
	}
}

func TestAGoodPlanPasses(t *testing.T) {
	if vs := policy.Check(&plan.Plan{Resources: good()}); len(vs) > 0 {
		t.Fatalf("want no violation:\n%s", policy.Report(vs))
	}
}

// Each rule fails on a plan built to break it, naming the rule and the resource.
func TestEachRuleFailsOnAPlanThatBreaksIt(t *testing.T) {
	set := func(name, key string, v any) func([]plan.Resource) {
		return func(rs []plan.Resource) {
			for i := range rs {
				if rs[i].Name == name {
					rs[i].Inputs[key] = v
				}
			}
		}
	}
	add := func(r plan.Resource) func([]plan.Resource) []plan.Resource {
		return func(rs []plan.Resource) []plan.Resource { return append(rs, r) }
	}
	cases := []struct {
		rule, resource string
		edit           func([]plan.Resource)
		grow           func([]plan.Resource) []plan.Resource
	}{
		{rule: "no-aws-managed-policies", resource: "vm-ssm-core", grow: add(res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "vm-ssm-core", map[string]any{"policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}))},
		{rule: "no-wildcard-secret-reads", resource: "vm-read", edit: set("vm-read", "policy", `{"Statement":[{"Effect":"Allow","Action":["ssm:GetParameter*"],"Resource":"*"}]}`)},
		{rule: "no-wildcard-secret-reads", resource: "vm-read", edit: set("vm-read", "policy", `{"Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:*"}]}`)},
		{rule: "secrets-under-stack-key", resource: "db-password", edit: set("db-password", "keyId", nil)},
		{rule: "secrets-under-stack-key", resource: "admin", edit: set("admin", "kmsKeyId", "alias/aws/secretsmanager")},
		{rule: "secrets-under-stack-key", resource: "db", edit: set("db", "masterUserSecretKmsKeyId", "arn:elsewhere")},
		{rule: "key-policy-names-its-users", resource: "secrets", edit: set("secrets", "enableKeyRotation", false)},
		{rule: "key-policy-names-its-users", resource: "secrets", edit: set("secrets", "policy", strings.Replace(goodKeyPolicy, `,"Condition":{"ArnEquals":{"aws:PrincipalArn":["arn:aws:iam::123456789012:role/app"]}}`, "", 1))},
		{rule: "key-policy-names-its-users", resource: "secrets", edit: set("secrets", "policy", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}`)},
		{rule: "key-policy-names-its-users", resource: "secrets", edit: set("secrets", "policy", strings.Replace(goodKeyPolicy, `"kms:Describe*"`, `"kms:Create*","kms:Describe*"`, 1))},
		{rule: "imdsv2-hop-limit-1", resource: "vm", edit: set("vm", imds, map[string]any{"httpTokens": "required", "httpPutResponseHopLimit": int64(2)})},
		{rule: "imdsv2-hop-limit-1", resource: "vm", edit: set("vm", imds, map[string]any{"httpTokens": "optional", "httpPutResponseHopLimit": int64(1)})},
		{rule: "no-open-ingress", resource: "proxy-https", edit: set("proxy-https", "fromPort", int64(22))},
		{rule: "no-open-ingress", resource: "vpc-ssh", grow: add(res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "vpc-ssh", map[string]any{"ipProtocol": "tcp", "fromPort": int64(22), "toPort": int64(22), "cidrIpv4": "0.0.0.0/0", "securityGroupId": "proxy-id"}))},
		{rule: "no-open-ingress", resource: "vpc-v6", grow: add(res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "vpc-v6", map[string]any{"ipProtocol": "-1", "cidrIpv6": "::/0", "securityGroupId": "alb-sg"}))},
		{rule: "no-open-ingress", resource: "open-80", grow: add(res("aws:ec2/securityGroupRule:SecurityGroupRule", "open-80", map[string]any{"type": "ingress", "protocol": "tcp", "fromPort": int64(80), "toPort": int64(80), "ipv6CidrBlocks": []any{"::/0"}, "securityGroupId": "alb-sg"}))},
		{rule: "encrypted-at-rest", resource: "vm", edit: set("vm", "rootBlockDevice", map[string]any{"encrypted": false})},
		{rule: "encrypted-at-rest", resource: "files", edit: set("files", "encrypted", false)},
		{rule: "encrypted-at-rest", resource: "db", edit: set("db", "storageEncrypted", nil)},
		{rule: "encrypted-at-rest", resource: "token", grow: add(res("aws:ssm/parameter:Parameter", "token", map[string]any{"name": "/x/t", "type": "String", "value": plan.Secret}))},
		{rule: "no-secret-in-plain-text", resource: "vm", edit: set("vm", "userData", "#!/bin/bash\nBOOKSTORE_ADMIN_PASSWORD=correct-horse-battery\n")},
		{rule: "no-secret-in-plain-text", resource: "vm", edit: set("vm", "userData", "echo "+plan.MockSecrets["bookstore:dbPassword"])},
		{rule: "no-secret-in-plain-text", resource: "release", edit: set("release", "insecureValue", "-----BEGIN PRIVATE KEY-----\nMC4CAQ")},
		{rule: "no-secret-in-plain-text", resource: "release", edit: set("release", "name", "/x/service-token")},
		{rule: "log-groups-expire", resource: "rds-error", edit: set("rds-error", "retentionInDays", nil)},
		{rule: "log-groups-expire", resource: "db", edit: set("db", "enabledCloudwatchLogsExports", []any{"error", "slowquery"})},
		{rule: "no-public-cleartext-listener", resource: "http", edit: set("alb", "internal", false)},
	}
	for _, c := range cases {
		rs := good()
		for i := range rs { // a fresh copy of every input map
			in := map[string]any{}
			for k, v := range rs[i].Inputs {
				in[k] = v
			}
			rs[i].Inputs = in
		}
		if c.edit != nil {
			c.edit(rs)
		}
		if c.grow != nil {
			rs = c.grow(rs)
		}
		vs := policy.Check(&plan.Plan{Resources: rs})
		found := false
		for _, v := range vs {
			if v.Rule == c.rule && v.Resource == c.resource {
				found = true
			} else {
				t.Errorf("%s on %s: unexpected %s", c.rule, c.resource, v)
			}
		}
		if !found {
			t.Errorf("rule %s did not fail on %s; got %v", c.rule, c.resource, vs)
		}
		if found && !strings.Contains(policy.Report(vs), c.rule+": ") {
			t.Errorf("the report must name the rule: %s", policy.Report(vs))
		}
	}
}

// Every rule is tested above and says what AWS does that it guards against.
func TestEveryRuleIsNamedAndExplained(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range policy.Rules() {
		if r.Name == "" || r.Guards == "" || seen[r.Name] {
			t.Errorf("rule %q: needs a unique name and what it guards against", r.Name)
		}
		seen[r.Name] = true
	}
}
