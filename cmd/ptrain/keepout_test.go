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

// Resuming a copy of a checkpoint writes to the run's recorded -out; where
// that file exists and is not the one resumed (it holds more epochs of the
// run, or another run now), the resume is refused before training, naming
// both files and the ways on, and the file is kept as it was. -out of the
// copy continues in the copy (which then records itself); -overwrite
// accepts the replacement; resuming
// the recorded file itself is not refused.
func TestResumeOfACopyKeepsTheRunsFile(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run.safetensors")
	mustRun(t, dir, "train", "-epochs", "2", "-quiet", "-out", "run.safetensors")
	copyFile(t, run, filepath.Join(dir, "backup.safetensors"))
	copyFile(t, run, filepath.Join(dir, "backup2.safetensors"))
	mustRun(t, dir, "train", "-resume", "run.safetensors", "-epochs", "4", "-quiet")
	four, _ := os.ReadFile(run)

	_, errs, code := ptrain(t, dir, "train", "-resume", "backup.safetensors", "-epochs", "3", "-quiet")
	if code != 2 || !strings.Contains(errs, "run.safetensors (its recorded -out), which exists and is another file") ||
		!strings.Contains(errs, "-out backup.safetensors") || !strings.Contains(errs, "-overwrite") {
		t.Errorf("resuming the copy: exit %d, stderr %q; want exit 2 naming run.safetensors, -out and -overwrite", code, errs)
	}
	if now, _ := os.ReadFile(run); !bytes.Equal(now, four) {
		t.Fatal("resuming the copy replaced the run's 4-epoch checkpoint")
	}

	mustRun(t, dir, "train", "-resume", "backup.safetensors", "-epochs", "3", "-quiet", "-out", "backup.safetensors")
	if f := tensors(t, filepath.Join(dir, "backup.safetensors")); !strings.Contains(f.Metadata["ptrain.progress"], `"epoch":3`) {
		t.Errorf("-out of the copy: its progress is %s, want 3 epochs", f.Metadata["ptrain.progress"])
	}
	if now, _ := os.ReadFile(run); !bytes.Equal(now, four) {
		t.Fatal("resuming the copy into itself touched the run's file")
	}
	mustRun(t, dir, "train", "-resume", "run.safetensors", "-epochs", "5", "-quiet")                   // the file itself: continues
	mustRun(t, dir, "train", "-resume", "backup2.safetensors", "-epochs", "4", "-quiet", "-overwrite") // records run.safetensors
	if f := tensors(t, run); !strings.Contains(f.Metadata["ptrain.progress"], `"epoch":4`) {
		t.Errorf("-overwrite: run.safetensors' progress is %s, want the copy's continuation at 4 epochs", f.Metadata["ptrain.progress"])
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A new run interrupted before it has written its first checkpoint leaves
// the file already at its -out as it was (a checkpoint of a few steps is
// not worth the trained one it would replace), says so, and exits 130.
func TestInterruptBeforeTheFirstCheckpointKeepsTheOut(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "keep.safetensors")
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "keep.safetensors")
	before, _ := os.ReadFile(out)
	// An epoch of seconds: 1,437 steps of one row through two 1024-wide layers.
	cmd := exec.Command(binary, "train", "-arch", "64-1024:relu-1024:relu-10:softmax", "-batch", "1", "-epochs", "1", "-quiet", "-out", "keep.safetensors")
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // past the runtime's signal handlers' installation
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code == 0 {
		t.Skip("the epoch ended before the interrupt: a machine this fast needs a longer run")
	} else if code != 130 || !strings.Contains(errb.String(), "before this run's first checkpoint: keep.safetensors is left as it was") {
		t.Fatalf("exit %d, stderr %q; want 130 and the file left as it was", code, errb.String())
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Error("the interrupted run replaced the checkpoint at its -out")
	}
}

// A run stopped by a non-finite loss before its first checkpoint names no
// file as its last good checkpoint when the file at -out is another run's.
func TestNonFiniteStopNamesNoOtherRunsFile(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-arch", "64-32:relu-10:softmax", "-out", "other.safetensors")
	before, _ := os.ReadFile(filepath.Join(dir, "other.safetensors"))
	_, errs, code := ptrain(t, dir, "train", "-lr", "1e30", "-optimizer", "sgd", "-epochs", "1", "-quiet", "-out", "other.safetensors")
	if code == 0 || strings.Contains(errs, "the last good checkpoint is other.safetensors") ||
		!strings.Contains(errs, "this run wrote no checkpoint, and other.safetensors is left as it was") {
		t.Errorf("exit %d, stderr %q; want an error saying the run wrote no checkpoint", code, errs)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "other.safetensors")); !bytes.Equal(before, after) {
		t.Error("the stopped run replaced other.safetensors")
	}
}

// A file made read-only for everyone is not replaced by any of the files
// ptrain writes (each by a rename, which the mode would not stop): the
// command is refused before it starts, naming the flag and the file.
func TestReadOnlyOutputIsNotReplaced(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	ro := filepath.Join(dir, "ro.safetensors")
	copyFile(t, filepath.Join(dir, "m.safetensors"), ro)
	if err := os.Chmod(ro, 0o444); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(ro)
	for _, args := range [][]string{
		{"train", "-epochs", "1", "-quiet", "-out", "ro.safetensors"},
		{"train", "-epochs", "1", "-quiet", "-out", "n.safetensors", "-metrics", "ro.csv"},
		{"predict", "-model", "m.safetensors", "-input", "rows.csv", "-output", "ro.csv"},
	} {
		if err := os.WriteFile(filepath.Join(dir, "ro.csv"), []byte("kept\n"), 0o444); err != nil && !os.IsPermission(err) {
			t.Fatal(err)
		}
		_ = os.Chmod(filepath.Join(dir, "ro.csv"), 0o444)
		_, errs, code := ptrain(t, dir, args...)
		if code != 2 || !strings.Contains(errs, "is read-only") {
			t.Errorf("ptrain %s: exit %d, stderr %q; want exit 2 saying the file is read-only", strings.Join(args, " "), code, errs)
		}
	}
	if after, _ := os.ReadFile(ro); !bytes.Equal(before, after) {
		t.Error("the read-only checkpoint was replaced")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ro.csv")); string(b) != "kept\n" {
		t.Errorf("the read-only -metrics/-output file holds %q", b)
	}
}

// -clip-norm and -clip-value of +Inf are refused before training, naming
// the flag (they were accepted, and the run then failed to write its
// checkpoint, whose config JSON cannot hold an infinity).
func TestInfiniteClipIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	for _, flag := range []string{"-clip-norm", "-clip-value", "-l1"} {
		for _, v := range []string{"Inf", "-1", "NaN"} {
			_, errs, code := ptrain(t, dir, "train", "-epochs", "1", "-quiet", flag, v)
			if code != 2 || !strings.Contains(errs, flag+" ") {
				t.Errorf("%s %s: exit %d, stderr %q; want exit 2 naming %s", flag, v, code, errs, flag)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ptrain.safetensors")); err == nil {
		t.Error("a refused run wrote a checkpoint")
	}
}

// A CSV header with an empty or repeated column name is refused when the
// table is read, naming the file and line — not after training, when the
// checkpoint (which finds columns by name) could not be written.
func TestHeaderNamesMustBeDistinct(t *testing.T) {
	dir := t.TempDir()
	rows := "1,2,0\n3,4,1\n5,6,0\n7,8,1\n2,3,0\n4,5,1\n6,7,0\n8,9,1\n1,3,0\n3,5,1\n"
	for name, header := range map[string]string{"dup.csv": "a,a,y\n", "empty.csv": "a,,y\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(header+rows), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errs, code := ptrain(t, dir, "train", "-data", "csv:"+name, "-label", "y", "-epochs", "1", "-quiet", "-out", "h.safetensors")
		if code == 0 || !strings.Contains(errs, name+": line 1:") || strings.Contains(errs, "refusing to write a checkpoint") {
			t.Errorf("%s: exit %d, stderr %q; want an error naming the file's line 1 before training", name, code, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "h.safetensors")); err == nil {
		t.Error("a refused run wrote a checkpoint")
	}
}
