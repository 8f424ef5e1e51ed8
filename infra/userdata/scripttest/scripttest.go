// Package scripttest checks rendered shell scripts with the real bash -n and
// shellcheck.
package scripttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/userdata"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// Check fails the test unless every script parses with bash -n and passes
// shellcheck. Outside CI missing tools skip; under CI=true they fail.
func Check(t *testing.T, scripts userdata.Scripts) {
	t.Helper()
	bash := testenv.Tool(t, "bash")
	shellcheck := testenv.Tool(t, "shellcheck")
	dir := t.TempDir()
	for i, name := range scripts.Names() {
		body := scripts[name]
		if !strings.HasPrefix(body, "#!/bin/bash\n") {
			t.Errorf("%s does not start with #!/bin/bash", name)
		}
		file := filepath.Join(dir, fmt.Sprintf("%02d-%s.sh", i, strings.ReplaceAll(name, "/", "_")))
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(bash, "-n", file).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s\n%s", name, err, out, numbered(body))
			continue
		}
		if out, err := exec.Command(shellcheck, "--shell=bash", "--severity=style", file).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s", name, err, out)
		}
	}
}

func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		b.WriteString(fmt.Sprintf("%4d  %s\n", i+1, l))
	}
	return b.String()
}
