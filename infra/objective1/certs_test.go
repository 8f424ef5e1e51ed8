package objective1_test

import (
	"regexp"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/localca"
)

var certPath = regexp.MustCompile(`ssl_certificate\s+(\S+)/fullchain\.pem;`)

// certDirs lists the certificate directories a sites file names.
func certDirs(sites string) []string {
	seen := map[string]bool{}
	var dirs []string
	for _, m := range certPath.FindAllStringSubmatch(sites, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			dirs = append(dirs, m[1])
		}
	}
	return dirs
}

func issue(t *testing.T, dir string) {
	t.Helper()
	if _, err := localca.Issue(dir, []string{"tet-bookstore-example.duckdns.org"}); err != nil {
		t.Fatal(err)
	}
}
