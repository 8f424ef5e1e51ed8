package main

import "testing"

// Exit statuses the Makefile and the workflows rely on.
func TestExitStatus(t *testing.T) {
	const root = "../../.."
	cases := map[string]int{"5": 1, "x": 1, "0": 1}
	for objective, want := range cases {
		if got := run(objective, false, root); got != want {
			t.Errorf("--objective %s: exit %d, want %d", objective, got, want)
		}
	}
	if got := run("1", false, "/nonexistent"); got != 1 {
		t.Errorf("a missing stack file must fail, got %d", got)
	}
}
