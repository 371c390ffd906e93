package main

import (
	"slices"
	"strings"
	"testing"
)

// The resume command printed under MPI keeps the launcher's own flags
// (--allow-run-as-root, --oversubscribe, -np, hostfiles): they are the
// launcher's command line up to the program.
func TestLauncherArgsKeepTheLaunchersFlags(t *testing.T) {
	for _, tc := range []struct {
		argv    []string
		program string
		want    []string
	}{
		{[]string{"mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", "./ptrain", "train", "-epochs", "5"}, "./ptrain", []string{"mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"}},
		{[]string{"/usr/bin/mpiexec", "-n", "4", "--hostfile", "h", "/opt/bin/ptrain", "train"}, "/opt/bin/ptrain", []string{"/usr/bin/mpiexec", "-n", "4", "--hostfile", "h"}},
		{[]string{"mpirun", "-np", "2", "sh", "-c", "ptrain train"}, "ptrain", nil}, // not started directly: the old form
	} {
		if got, ok := launcherArgs(tc.argv, tc.program); !slices.Equal(got, tc.want) || ok != (tc.want != nil) {
			t.Errorf("launcherArgs(%q, %q) = %q, %v; want %q", tc.argv, tc.program, got, ok, tc.want)
		}
	}
	if l := mpiLauncher(); l != nil {
		t.Errorf("the tests were not started by an MPI launcher, mpiLauncher = %q", l)
	}
	if got := resumeCommand("c.safetensors", 2); !strings.HasPrefix(got, "mpirun --bind-to none -np 2 ") {
		t.Errorf("without a launcher to read, resumeCommand = %q", got)
	}
}

// Under MPI the first interrupt does not promise a checkpoint a dead rank
// would prevent: it names the last one written, or says there is none.
func TestMPIInterruptNamesTheLastCheckpoint(t *testing.T) {
	lastCheckpoint.Store(nil)
	if m := mpiInterruptMessage(); !strings.Contains(m, "none has been written yet") || strings.Contains(m, "and writing a checkpoint") {
		t.Errorf("before any checkpoint: %q", m)
	}
	savedCheckpoint("run.safetensors", 3, 0)
	if m := mpiInterruptMessage(); !strings.Contains(m, "the last one written is run.safetensors (after epoch 3), the one to resume from") {
		t.Errorf("after epoch 3: %q", m)
	}
	savedCheckpoint("run.safetensors", 3, 7)
	if m := mpiInterruptMessage(); !strings.Contains(m, "run.safetensors (epoch 4, step 7)") {
		t.Errorf("mid-epoch: %q", m)
	}
	lastCheckpoint.Store(nil)
}

// The checkpoint the MPI interrupt message names is the command's own: a
// train run in this process before it (or a test) leaves none behind for
// the next command to name.
func TestLastCheckpointIsTheCommandsOwn(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "first.safetensors")
	if _, _, code := ptrain(t, dir, "train", "-epochs", "x"); code != 2 {
		t.Fatalf("train -epochs x: exit %d, want 2", code)
	}
	if m := mpiInterruptMessage(); !strings.Contains(m, "none has been written yet") {
		t.Errorf("after a command that wrote no checkpoint: %q", m)
	}
}
