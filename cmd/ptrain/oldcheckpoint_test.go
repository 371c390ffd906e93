package main

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model/num"
)

// oldCosineBackend is the GEMM that wrote testdata/old-cosine-resumed.sha256:
// other kernels (OpenBLAS, the AVX2 ones) round float32 products
// otherwise, so the tensors' bits are compared only where it runs.
const oldCosineBackend = "ptrain GEMM kernels (AVX-512) and gonum"

// lrByEpoch reads a -metrics file's lr column by epoch.
func lrByEpoch(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: %d rows, %v", path, len(rows), err)
	}
	ep, lr := slices.Index(rows[0], "epoch"), slices.Index(rows[0], "lr")
	out := map[string]string{}
	for _, r := range rows[1:] {
		out[r[ep]] = r[lr]
	}
	return out
}

// TestOldCheckpointResumesOnItsSchedule: a checkpoint written before the
// optimizer held its learning-rate schedule (testdata/old-cosine.sh: one
// epoch of a cosine run with warm-up, by ptrain as of a399840) resumes on
// the curve it was on — each epoch's learning rate is an uninterrupted
// run's, and where the same GEMM runs its tensors at epoch 3 are those
// that ptrain wrote — and the new checkpoint holds the schedule.
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
	mustRun(t, dir, "train", "-resume", "old.safetensors", "-epochs", "3", "-workers", "2", "-quiet", "-out", "old.safetensors", "-metrics", "resumed.csv")
	// The run old-cosine.sh made, uninterrupted: its learning rates are
	// the schedule's, whatever the GEMM.
	mustRun(t, dir, "train", "-arch", "64-16:relu-10:softmax", "-schedule", "cosine", "-warmup", "3", "-batch", "32", "-workers", "2", "-quiet",
		"-epochs", "3", "-out", "full.safetensors", "-metrics", "full.csv")
	full, resumed := lrByEpoch(t, filepath.Join(dir, "full.csv")), lrByEpoch(t, filepath.Join(dir, "resumed.csv"))
	for _, e := range []string{"2", "3"} {
		if resumed[e] == "" || resumed[e] != full[e] {
			t.Errorf("epoch %s's learning rate: %q resumed, %q uninterrupted", e, resumed[e], full[e])
		}
	}
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
	if got := hex.EncodeToString(h.Sum(nil)); num.Backend() != oldCosineBackend {
		t.Logf("tensors not compared: this build's GEMM is %s, the fixture's %s", num.Backend(), oldCosineBackend)
	} else if got != strings.TrimSpace(string(want)) {
		t.Errorf("the resumed tensors hash to %s, ptrain as of a399840 wrote %s", got, strings.TrimSpace(string(want)))
	}
	if s := f.Metadata["ptrain.optimizer"]; !strings.Contains(s, `"schedule":{"kind":"cosine","epochs":3,"warmup":3,"steps_per_epoch":`) {
		t.Errorf("the resumed checkpoint's optimizer is %s: no cosine schedule of 3 epochs", s)
	}
}
