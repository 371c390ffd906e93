package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model/safetensors"
)

// Progress that no run of the checkpoint's data, batch size and
// accumulation could have reached is refused by -resume (in process), not
// trusted: a batch beyond the epoch's 23 steps used to skip the epoch and
// report "train loss NaN", a huge step count to be taken as it is.
func TestResumeRefusesLyingProgress(t *testing.T) {
	dir := t.TempDir()
	good := goodCheckpoint(t, dir, "-optimizer", "adam")
	progress := func(v string) func(f *safetensors.File) {
		return func(f *safetensors.File) { f.Metadata[metaProgress] = v }
	}
	for _, tc := range []struct{ name, progress, want string }{
		{"batch-beyond-epoch", `{"epoch":1,"batch":9999,"step":9999}`, `step 9999 of an epoch, which has 21 steps`},
		{"huge-batch", `{"epoch":1,"batch":1000000000000,"step":1000000000021}`, `step 1000000000000 of an epoch, which has 21 steps`},
		{"huge-step", `{"epoch":1,"batch":0,"step":4611686018427387904}`, `the optimizer has taken 4611686018427387904 steps, but epoch 1 and step 0 of epochs of 21 steps make 21`},
		{"step-behind", `{"epoch":1,"batch":3,"step":21}`, `the optimizer has taken 21 steps, but epoch 1 and step 3 of epochs of 21 steps make 24`},
	} {
		p := filepath.Join(dir, tc.name+".safetensors")
		if err := writeFileBytes(p, rewrite(t, good, progress(tc.progress))); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		code := run([]string{"train", "-resume", p, "-epochs", "2", "-quiet", "-out", filepath.Join(dir, "out.safetensors")}, nil, io.Discard, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), tc.want) || !strings.Contains(stderr.String(), p) {
			t.Errorf("%s: exit %d, %q; want the file and %q", tc.name, code, stderr.String(), tc.want)
		}
	}
}

func writeFileBytes(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }

// A Go program's checkpoint (no ptrain.config) trained on epochs of
// other steps than train's (it held out no validation split), so it
// resumes (TestEvalScoresTheRecordedTestRows); its step count is still
// bounded, by one step a row for every epoch begun.
func TestResumeOfAGoCheckpointBoundsItsSteps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "lib.safetensors")
	libraryRun(t, p, 1, true)
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "huge-step.safetensors")
	if err := writeFileBytes(bad, rewrite(t, good, func(f *safetensors.File) {
		f.Metadata[metaProgress] = `{"epoch":2,"batch":0,"step":4611686018427387904}`
	})); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	code := run([]string{"train", "-resume", bad, "-data", "digits", "-epochs", "3", "-quiet", "-out", filepath.Join(dir, "out.safetensors")}, nil, io.Discard, &stderr)
	if want := "the optimizer has taken 4611686018427387904 steps, more than one a row of up to"; code == 0 || !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), bad) {
		t.Errorf("exit %d, %q; want the file and %q", code, stderr.String(), want)
	}
}
