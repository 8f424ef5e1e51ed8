package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// actionlint is run as its own module at a pinned version: built inside this
// module it would get compose-go's newer go.yaml.in/yaml/v4, which it does
// not compile against.
const actionlint = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// The GitHub workflows pass actionlint, including shellcheck on their scripts.
func TestWorkflowsPassActionlint(t *testing.T) {
	goBin := testenv.Tool(t, "go")
	testenv.Tool(t, "shellcheck") // actionlint checks run: scripts with it when present
	cmd := exec.Command(goBin, "run", actionlint, "-no-color")
	cmd.Dir = ".." // the repository root, where .github/workflows is
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if s := string(out); strings.Contains(s, "dial tcp") || strings.Contains(s, "no such host") || strings.Contains(s, "proxy.golang.org") && strings.Contains(s, "connection") {
			testenv.Missing(t, "the Go module proxy is needed to build actionlint: %s", s)
		}
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
}

// Each workflow does what infra/README.md promises.
func TestWorkflowsContract(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../.github/workflows/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	checks := map[string][]string{
		"ci.yml": {"pull_request:", "run: bash .ci/run", "actions/setup-go@"},
		"preview.yml": {
			"stack: [objective1, objective2, objective3]", "pulumi/actions@", "command: preview", "comment-on-pr: true",
			"aws-actions/configure-aws-credentials@", "role-to-assume:", "id-token: write",
			"if: vars.AWS_PREVIEW_ROLE_ARN == ''", "go run ./infra/cmd/plan --objective", "gh pr comment",
		},
		"deploy.yml": {"branches: [main]", "environment: production", "command: up", "role-to-assume:", "stack: [objective2, objective3, objective1]"},
	}
	for file, wants := range checks {
		body := read(file)
		for _, w := range wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", file, w)
			}
		}
	}
}

var (
	usesLine = regexp.MustCompile(`(?m)^\s*-?\s*uses:\s*(\S+)`)
	pinned   = regexp.MustCompile(`^[\w.-]+/[\w.-]+@[0-9a-f]{40}$`)
)

// Actions are pinned by commit (a moved tag cannot change what runs with
// the deploy role), the Pulumi CLI by version, and preview and deploy use
// different roles: the preview role (read-only, trusted for pull_request)
// never deploys, the deploy role only runs in the production environment.
func TestWorkflowsArePinnedAndSplitTheirRoles(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", ".github", "workflows", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, name := range []string{"ci.yml", "preview.yml", "deploy.yml"} {
		for _, m := range usesLine.FindAllStringSubmatch(read(name), -1) {
			if !pinned.MatchString(m[1]) {
				t.Errorf("%s: %s is not pinned by commit SHA", name, m[1])
			}
		}
	}
	preview, deploy := read("preview.yml"), read("deploy.yml")
	if strings.Contains(preview, "AWS_DEPLOY_ROLE_ARN") || !strings.Contains(preview, "role-to-assume: ${{ vars.AWS_PREVIEW_ROLE_ARN }}") {
		t.Error("preview must assume the preview role only")
	}
	// The pull request's program runs with the preview's Pulumi token: it
	// must not be the deploy token, which may decrypt the stacks' secrets.
	if !strings.Contains(preview, "PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_PREVIEW_ACCESS_TOKEN }}") || strings.Contains(preview, "secrets.PULUMI_ACCESS_TOKEN") {
		t.Error("preview must use the read-only PULUMI_PREVIEW_ACCESS_TOKEN secret, never PULUMI_ACCESS_TOKEN")
	}
	if strings.Contains(deploy, "AWS_PREVIEW_ROLE_ARN") || !strings.Contains(deploy, "role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}") || !strings.Contains(deploy, "environment: production") {
		t.Error("deploy must assume the deploy role, in the production environment")
	}
	for name, wf := range map[string]string{"preview.yml": preview, "deploy.yml": deploy} {
		if !regexp.MustCompile(`pulumi-version: \d+\.\d+\.\d+`).MatchString(wf) {
			t.Errorf("%s: the Pulumi CLI version must be pinned", name)
		}
	}
}
