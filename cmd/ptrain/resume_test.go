package main

import (
	"os"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/optim"
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

// Under MPI the resume command repeats the launcher's own flags, which
// the run needed (--allow-run-as-root as root, --oversubscribe).
func TestLauncherArgs(t *testing.T) {
	for _, tc := range []struct {
		parent []string
		self   string
		want   string // "" for none
	}{
		{[]string{"mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", "./ptrain", "train", "-epochs", "3"}, "./ptrain", "mpirun --allow-run-as-root --oversubscribe -np 2"},
		{[]string{"/usr/bin/mpiexec", "-n", "4", "--hostfile", "my hosts", "/opt/ptrain", "train"}, "/opt/ptrain", "/usr/bin/mpiexec -n 4 --hostfile my hosts"},
		{[]string{"bash", "-c", "./ptrain train"}, "./ptrain", ""},
		{[]string{"mpirun", "-np", "2", "other"}, "./ptrain", ""},
		{nil, "./ptrain", ""},
	} {
		got, ok := launcherArgs(tc.parent, tc.self)
		if ok != (tc.want != "") || strings.Join(got, " ") != tc.want {
			t.Errorf("launcherArgs(%q): %q, %v; want %q", tc.parent, got, ok, tc.want)
		}
	}
}

// scheduleFlag writes each schedule's kind and figures as -schedule reads
// them back.
func TestScheduleFlagRoundTrips(t *testing.T) {
	for _, s := range []optim.Schedule{
		{Kind: optim.Constant},
		{Kind: optim.StepDecay, Every: 2.5, Gamma: 0.1},
		{Kind: optim.Exponential, Gamma: 0.95},
		{Kind: optim.Cosine},
		{Kind: optim.Cosine, Min: 1e-5},
	} {
		got, err := optim.ParseSchedule(scheduleFlag(s))
		if err != nil || got != s {
			t.Errorf("%+v: scheduleFlag %q reads back as %+v, %v", s, scheduleFlag(s), got, err)
		}
	}
}
