package main

import (
	"os"
	"testing"
)

// The resume command names the program as it was invoked and, under MPI,
// the launcher with the same number of processes.
func TestResumeCommand(t *testing.T) {
	defer func(a string) { os.Args[0] = a }(os.Args[0])
	for _, tc := range []struct {
		argv0, out string
		ranks      int
		want       string
	}{
		{"./ptrain", "ptrain.safetensors", 1, "./ptrain train -resume ptrain.safetensors"},
		{"/usr/local/bin/ptrain", "runs/a b.safetensors", 1, "/usr/local/bin/ptrain train -resume 'runs/a b.safetensors'"},
		{"ptrain", "it's.safetensors", 1, `ptrain train -resume 'it'\''s.safetensors'`},
		{"./ptrain", "m.safetensors", 4, "mpirun --bind-to none -np 4 ./ptrain train -resume m.safetensors"},
	} {
		os.Args[0] = tc.argv0
		if got := resumeCommand(tc.out, tc.ranks); got != tc.want {
			t.Errorf("resumeCommand(%q, %d) as %s: %s, want %s", tc.out, tc.ranks, tc.argv0, got, tc.want)
		}
	}
}
