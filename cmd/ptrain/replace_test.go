package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A new run with the default -out replaces the checkpoint there only when
// it is the same run again; another run's checkpoint, or a file that is
// none, is refused naming the file and -overwrite, and kept as it was.
func TestDefaultOutKeepsAnotherRunsCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "ptrain.safetensors")
	mustRun(t, dir, "train", "-epochs", "1", "-quiet")
	first, _ := os.ReadFile(ck)
	mustRun(t, dir, "train", "-epochs", "1", "-quiet") // the same command again: replaced
	for _, args := range [][]string{
		{"train", "-epochs", "1", "-arch", "64-32:relu-10:softmax"},
		{"train", "-epochs", "1", "-data", "synthetic:blobs"},
	} {
		before, _ := os.ReadFile(ck)
		_, errs, code := ptrain(t, dir, args...)
		if code != 2 || !strings.Contains(errs, "ptrain.safetensors (the default -out) holds another run's checkpoint") || !strings.Contains(errs, "-overwrite") {
			t.Errorf("ptrain %s: exit %d, stderr %q; want exit 2 naming the file and -overwrite", strings.Join(args, " "), code, errs)
		}
		if after, _ := os.ReadFile(ck); !bytes.Equal(before, after) {
			t.Errorf("ptrain %s replaced the checkpoint", strings.Join(args, " "))
		}
	}
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-arch", "64-32:relu-10:softmax", "-overwrite")
	if f := tensors(t, ck); !strings.HasPrefix(f.Metadata["ptrain.arch"], "64-32:relu") {
		t.Errorf("-overwrite: the checkpoint is %s, want the new run's", f.Metadata["ptrain.arch"])
	}
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "ptrain.safetensors") // named: the user's choice
	if f := tensors(t, ck); !strings.HasPrefix(f.Metadata["ptrain.arch"], "64-128:relu") {
		t.Errorf("explicit -out: the checkpoint is %s, want the new run's", f.Metadata["ptrain.arch"])
	}
	if err := os.WriteFile(ck, append(first[:0:0], "not a checkpoint"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := ptrain(t, dir, "train", "-epochs", "1"); code != 2 || !strings.Contains(errs, "is not a ptrain checkpoint") {
		t.Errorf("over a file that is no checkpoint: exit %d, stderr %q", code, errs)
	}
}
