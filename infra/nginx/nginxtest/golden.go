package nginxtest

import (
	"os"
	"testing"
)

// Golden fails unless file holds exactly want; with UPDATE_GOLDEN=1 in the
// environment it writes want to file instead.
func Golden(t *testing.T, file, want string) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (create it with UPDATE_GOLDEN=1 go test ./infra/nginx)", err)
	}
	if string(got) != want {
		t.Fatalf("%s is not what the renderer makes; run UPDATE_GOLDEN=1 go test ./infra/nginx and commit it", file)
	}
}
