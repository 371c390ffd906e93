//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGUSR1 stops training as Ctrl-C does (mpirun forwards it to the ranks:
// see mpi_stop_test.go): the step finishes, the checkpoint is written,
// and the exit status is 130.
func TestSIGUSR1StopsTrainingAsCtrlC(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "train", "-epochs", "500", "-quiet", "-out", "u.safetensors")
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "u.safetensors")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no checkpoint within 30 s: %s", errb.String())
		}
	}
	_ = cmd.Process.Signal(syscall.SIGUSR1)
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(errb.String(), "checkpoint written to u.safetensors") {
		t.Fatalf("exit %d after SIGUSR1, want 130 and a checkpoint: %s", code, errb.String())
	}
	mustRun(t, dir, "info", "u.safetensors")
}
