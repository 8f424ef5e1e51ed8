package stackkey

import (
	"encoding/json"
	"path"
	"slices"
	"strings"
	"testing"
)

// The account root administers the key but may not create grants: a grant
// gives Decrypt without the aws:PrincipalArn and kms:ViaService conditions.
// Only the named writers create grants, and only for AWS services.
func TestPolicyGivesCreateGrantOnlyToNamedWritersForAWSServices(t *testing.T) {
	raw, err := Policy(PolicyArgs{Partition: "aws", Account: "123456789012", Region: "eu-west-1",
		Deployer: "arn:aws:iam::123456789012:role/deploy", Readers: []string{"reader"}, Writers: []string{"writer"}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Sid       string
			Action    []string
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	granting := 0
	for _, s := range doc.Statement {
		gives := slices.ContainsFunc(s.Action, func(a string) bool {
			ok, _ := path.Match(strings.ToLower(a), "kms:creategrant")
			return ok
		})
		if !gives {
			continue
		}
		granting++
		if s.Condition["Bool"]["kms:GrantIsForAWSResource"] != "true" {
			t.Errorf("statement %q gives kms:CreateGrant without kms:GrantIsForAWSResource", s.Sid)
		}
		arns, _ := s.Condition["ArnEquals"]["aws:PrincipalArn"].([]any)
		want := []any{"arn:aws:iam::123456789012:role/deploy", "arn:aws:iam::123456789012:role/writer"}
		if !slices.Equal(arns, want) {
			t.Errorf("statement %q gives kms:CreateGrant to %v, want the writers %v", s.Sid, arns, want)
		}
	}
	if granting != 1 {
		t.Errorf("%d statements give kms:CreateGrant, want 1 (RDS and Secrets Manager need grants)", granting)
	}
}
