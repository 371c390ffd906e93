package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOldCheckpointResumesOnItsSchedule: a checkpoint written before the
// optimizer held its learning-rate schedule (testdata/old-cosine.sh: one
// epoch of a cosine run with warm-up, by ptrain as of a399840) resumes on
// the curve it was on — its tensors at epoch 3 are those that ptrain
// wrote — and the new checkpoint holds the schedule.
func TestOldCheckpointResumesOnItsSchedule(t *testing.T) {
	dir := t.TempDir()
	old, err := os.ReadFile(filepath.Join("testdata", "old-cosine.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "old-cosine-resumed.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "old.safetensors")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, "train", "-resume", "old.safetensors", "-epochs", "3", "-workers", "2", "-quiet", "-out", "old.safetensors")
	f := tensors(t, path)
	var names []string
	for _, tn := range f.Tensors {
		names = append(names, tn.Name)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, name := range names {
		h.Write(f.Tensor(name).Data)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.TrimSpace(string(want)) {
		t.Errorf("the resumed tensors hash to %s, ptrain as of a399840 wrote %s", got, strings.TrimSpace(string(want)))
	}
	if s := f.Metadata["ptrain.optimizer"]; !strings.Contains(s, `"schedule":{"kind":"cosine","epochs":3,"warmup":3,"steps_per_epoch":`) {
		t.Errorf("the resumed checkpoint's optimizer is %s: no cosine schedule of 3 epochs", s)
	}
}
