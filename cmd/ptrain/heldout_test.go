package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ckpt "github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// libraryRun trains on the digits in Go with the test split held out by
// seed (as a Go program may), and saves the checkpoint; record says
// whether it records what it trained on (Checkpoint.TrainedOn). It
// returns the test split's loss by the library.
func libraryRun(t *testing.T, path string, seed uint64, record bool) float64 {
	t.Helper()
	ds, err := data.Digits()
	if err != nil {
		t.Fatal(err)
	}
	train, test, info, err := ds.SplitRecorded(0.2, seed)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := model.New[float32](model.MustParseSpec("64-16:relu-10:softmax"), 1)
	opt, _ := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(context.Background(), train, nil, parallel.FitConfig{Epochs: 2, BatchSize: 32, Shuffle: true}); err != nil {
		t.Fatal(err)
	}
	met, err := tr.Evaluate(context.Background(), test, 32)
	if err != nil {
		t.Fatal(err)
	}
	c := &ckpt.Checkpoint[float32]{Model: m, Optimizer: opt, Progress: tr.Progress(), Task: new(data.Classification), Classes: ds.Classes}
	if record {
		c.TrainedOn(train, info, 32)
	}
	if err := ckpt.Save(path, c); err != nil {
		t.Fatal(err)
	}
	return met.Loss
}

// A Go program's checkpoint that records its split is scored by eval on
// the very rows the program held out (its seed, not the command's), and
// one that does not record it makes eval say that it may score training
// rows. Resuming it keeps its batch size and split, or refuses another.
func TestEvalScoresTheRecordedTestRows(t *testing.T) {
	dir := t.TempDir()
	want := libraryRun(t, filepath.Join(dir, "lib.safetensors"), 1, true)
	out, errs, code := ptrain(t, dir, "eval", "-model", "lib.safetensors", "-data", "digits", "-json")
	var got struct {
		Loss    float64 `json:"loss"`
		Samples int     `json:"samples"`
		Split   string  `json:"split"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("eval: exit %d\n%s%s", code, out, errs)
	}
	if got.Split != "test" || got.Samples != 359 || math.Abs(got.Loss-want) > 1e-5*max(1, want) {
		t.Errorf("eval of the recorded split: %+v; want split test, 359 samples, loss %.6f (the library's on its held-out rows)", got, want)
	}

	libraryRun(t, filepath.Join(dir, "bare.safetensors"), 1, false)
	if _, errs, _ := ptrain(t, dir, "eval", "-model", "bare.safetensors", "-data", "digits"); !strings.Contains(errs, "does not record which rows its model trained on") {
		t.Errorf("eval of a checkpoint without its split: stderr %q; want the warning", errs)
	}
	if _, errs, code := ptrain(t, dir, "train", "-resume", "bare.safetensors", "-data", "digits", "-epochs", "3", "-quiet", "-out", "b2.safetensors"); code != 0 || !strings.Contains(errs, "may include rows it trained on") || !strings.Contains(errs, "does not record its batch size") {
		t.Errorf("resume without a split: exit %d, stderr %q; want the warning", code, errs)
	}

	mustRun(t, dir, "train", "-resume", "lib.safetensors", "-data", "digits", "-epochs", "3", "-quiet", "-out", "r.safetensors")
	var cfg Config
	f := tensors(t, filepath.Join(dir, "r.safetensors"))
	if err := json.Unmarshal([]byte(f.Metadata[metaConfig]), &cfg); err != nil || cfg.Batch != 32 || cfg.Test != 0.2 {
		t.Errorf("the resumed run's config: batch %d, test %g, %v; want the checkpoint's batch 32 and test 0.2", cfg.Batch, cfg.Test, err)
	}
	var split data.SplitInfo
	if err := json.Unmarshal([]byte(f.Metadata[ckpt.MetaSplit]), &split); err != nil || split.Seed != 1 || split.Share != 0.2 {
		t.Errorf("the resumed run's split: %+v, %v; want the library's seed 1, share 0.2", split, err)
	}
	if _, errs, code := ptrain(t, dir, "train", "-resume", "lib.safetensors", "-data", "digits", "-epochs", "3", "-batch", "64", "-out", "x.safetensors"); code != 2 || !strings.Contains(errs, "-batch is 64 here, the checkpoint's is 32") {
		t.Errorf("resume with another -batch: exit %d, stderr %q", code, errs)
	}
}

// -resume refuses data that changed since the checkpoint, naming both
// fingerprints and -init as the way to fine-tune; eval of the run's own,
// changed, data says it may score training rows.
func TestResumeRefusesChangedData(t *testing.T) {
	dir := t.TempDir()
	rows := func(n int) string {
		var b strings.Builder
		b.WriteString("a,b,class\n")
		for i := range n {
			fmt.Fprintf(&b, "%d,%d,%s\n", i%7, i%5, []string{"x", "y"}[i%2])
		}
		return b.String()
	}
	writeFiles(t, dir, map[string]string{"t.csv": rows(150)})
	mustRun(t, dir, "train", "-data", "csv:t.csv", "-epochs", "1", "-quiet", "-out", "ck.safetensors")
	before, _ := os.ReadFile(filepath.Join(dir, "ck.safetensors"))
	writeFiles(t, dir, map[string]string{"t.csv": rows(200)})
	_, errs, code := ptrain(t, dir, "train", "-resume", "ck.safetensors", "-epochs", "2")
	if code != 2 || !strings.Contains(errs, "the data has changed since the checkpoint") || !strings.Contains(errs, "200 rows with fingerprint") ||
		!strings.Contains(errs, "150 rows with fingerprint") || !strings.Contains(errs, "-init ck.safetensors") {
		t.Errorf("resume on changed data: exit %d, stderr %q", code, errs)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "ck.safetensors")); string(after) != string(before) {
		t.Error("the refused resume changed the checkpoint")
	}
	if _, errs, code := ptrain(t, dir, "eval", "-model", "ck.safetensors"); code != 0 || !strings.Contains(errs, "has changed since") {
		t.Errorf("eval on changed data: exit %d, stderr %q", code, errs)
	}
	if _, errs, _ := ptrain(t, dir, "train", "-resume", "ck.safetensors", "-epochs", "2", "-lr", "0.5"); !strings.Contains(errs, "-init ck.safetensors") {
		t.Errorf("resume with another -lr: stderr %q; want -init named", errs)
	}
}

// eval and predict warn when the inputs lie far outside the range the
// model was trained on: 0–255 pixels for a model trained on [0, 1].
func TestInputsFarOutsideTheTrainingRangeWarn(t *testing.T) {
	dir := t.TempDir()
	var x [][]float64
	var labels []int
	var csv strings.Builder
	for i := range 40 {
		a, b := float64(i*37%256), float64(i*91%256)
		x = append(x, []float64{a / 255, b / 255})
		labels = append(labels, i%2)
		fmt.Fprintf(&csv, "%g,%g,%d\n", a, b, i%2)
	}
	ds, err := data.FromSlices(x, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := model.New[float32](model.MustParseSpec("2-4:relu-2:softmax"), 1)
	c := &ckpt.Checkpoint[float32]{Model: m, Task: new(data.Classification), Classes: ds.Classes}
	c.TrainedOn(ds, data.SplitInfo{}, 8)
	if err := ckpt.Save(filepath.Join(dir, "m.safetensors"), c); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"raw.csv": csv.String(), "scaled.csv": "0.1,0.9\n0.5,0.5\n"})
	for _, args := range [][]string{
		{"eval", "-model", "m.safetensors", "-data", "csv:raw.csv", "-csv-header=false"},
		{"predict", "-model", "m.safetensors", "-input", "raw.csv", "-csv-header=false", "-label", "2"},
	} {
		if _, errs, code := ptrain(t, dir, args...); code != 0 || !strings.Contains(errs, "the model m.safetensors was trained on inputs in [0, 0.98") {
			t.Errorf("ptrain %s: exit %d, stderr %q; want the range warning", strings.Join(args, " "), code, errs)
		}
	}
	if _, errs, code := ptrain(t, dir, "predict", "-model", "m.safetensors", "-input", "scaled.csv", "-csv-header=false"); code != 0 || strings.Contains(errs, "warning") {
		t.Errorf("predict on data in range: exit %d, stderr %q; want no warning", code, errs)
	}
}
