package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ckpt "github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// fitLike trains c's model as `ptrain train` does with the flags of cfg
// (the CLI's splits, seed and batch), from c.Progress up to epochs.
func fitLike(t *testing.T, c *ckpt.Checkpoint[float32], cfg Config, workers, epochs int) {
	t.Helper()
	sp, err := loadSplits(&cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := parallel.New(c.Model, c.Optimizer, parallel.Config{Workers: workers, Seed: cfg.Seed})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(context.Background(), sp.train, sp.val, parallel.FitConfig{Epochs: epochs, BatchSize: cfg.Batch, Shuffle: cfg.Shuffle, Seed: cfg.Seed, Start: c.Progress}); err != nil {
		t.Fatal(err)
	}
	c.Progress = tr.Progress()
}

// A checkpoint saved from Go code is evaluated, predicted and resumed by
// the command; resuming it needs -data (exit 2 without), takes its
// optimizer, refuses flags that contradict it, and continues exactly
// where the library would.
func TestLibraryCheckpointInTheCLI(t *testing.T) {
	dir := t.TempDir()
	m, err := model.New[float32](model.MustParseSpec("64-16:relu-10:softmax"), 1)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New[float32](optim.Config{Method: optim.SGD, LR: 0.05, Momentum: 0.8, Nesterov: true}, len(m.Params))
	c := &ckpt.Checkpoint[float32]{Model: m, Optimizer: opt, Task: new(data.Classification), Classes: []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}}
	cfg := defaultConfig()
	fitLike(t, c, cfg, 2, 1)
	if err := ckpt.Save(filepath.Join(dir, "lib.safetensors"), c); err != nil {
		t.Fatal(err)
	}
	fitLike(t, c, cfg, 2, 3) // what the library's run would continue with

	_, errs, code := ptrain(t, dir, "eval", "-model", "lib.safetensors")
	if code != 2 || !strings.Contains(errs, "lib.safetensors has no \"ptrain.config\"") || !strings.Contains(errs, "give -data") {
		t.Errorf("eval without -data: exit %d, %q", code, errs)
	}
	if _, errs, code := ptrain(t, dir, "eval", "-model", "lib.safetensors", "-data", "synthetic:regression"); code != 2 || !strings.Contains(errs, "the model is for classification") {
		t.Errorf("eval of regression data: exit %d, %q", code, errs)
	}
	if out := mustRun(t, dir, "eval", "-model", "lib.safetensors", "-data", "digits"); !strings.Contains(out, "accuracy") {
		t.Errorf("eval -data digits:\n%s", out)
	}
	writeFiles(t, dir, map[string]string{"rows.csv": strings.Repeat(strings.Repeat("3,", 63)+"9\n", 2)})
	out := mustRun(t, dir, "predict", "-model", "lib.safetensors", "-input", "rows.csv", "-csv-header=false")
	if !strings.HasPrefix(out, "row,class,p_zero,p_one,") || strings.Count(out, "\n") != 3 {
		t.Errorf("predict:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-epochs", "3"}, "give -data"},
		{[]string{"-data", "digits", "-epochs", "3", "-optimizer", "adam"}, "the checkpoint's (whose state it keeps) is sgd lr 0.05 momentum 0.8 nesterov"},
		{[]string{"-data", "digits", "-epochs", "3", "-lr", "0.1"}, "the checkpoint's (whose state it keeps)"},
		{[]string{"-data", "digits", "-epochs", "3", "-arch", "64-32:relu-10:softmax"}, "-arch is 64-32:relu-10:softmax here, the checkpoint's is 64-16:relu-10:softmax"},
		{[]string{"-data", "digits", "-epochs", "3", "-dtype", "float64"}, "-dtype is float64 here, the checkpoint's is float32"},
		{[]string{"-data", "digits", "-epochs", "3", "-normalize", "zscore"}, "-normalize zscore, but the checkpoint's model was trained without a feature transform"},
		{[]string{"-data", "synthetic:regression", "-epochs", "3"}, "lib.safetensors: the model is for classification, the data (regression) is for regression"},
	} {
		_, errs, code := ptrain(t, dir, append([]string{"train", "-resume", "lib.safetensors", "-quiet", "-out", "bad.safetensors"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("resume %v: exit %d, %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
	}
	mustRun(t, dir, "train", "-resume", "lib.safetensors", "-data", "digits", "-epochs", "3", "-workers", "2", "-quiet", "-out", "r.safetensors")
	r, err := ckpt.Load[float32](filepath.Join(dir, "r.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Model.Params, c.Model.Params) || r.Progress.Epoch != 3 || r.Optimizer.Config() != opt.Config() {
		t.Errorf("resumed by the CLI: epoch %d, optimizer %+v; the weights equal the library's: %v", r.Progress.Epoch, r.Optimizer.Config(), slices.Equal(r.Model.Params, c.Model.Params))
	}
	if _, ok := r.Meta[metaConfig]; !ok {
		t.Errorf("the CLI's checkpoint has no %s", metaConfig)
	}
	// The resumed file is a whole CLI checkpoint: it resumes without -data.
	mustRun(t, dir, "train", "-resume", "r.safetensors", "-epochs", "4", "-quiet", "-out", "r.safetensors")
}

// Model.SaveFile's file, weights alone, works with eval -data and predict
// (class indices for names) and resumes as a start from its weights.
func TestModelSaveFileInTheCLI(t *testing.T) {
	dir := t.TempDir()
	m, err := model.New[float64](model.MustParseSpec("64-16:relu-10:softmax"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SaveFile(filepath.Join(dir, "m.safetensors"), nil); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, dir, "eval", "-model", "m.safetensors", "-data", "digits", "-json"); !strings.Contains(out, `"split":"all"`) || !strings.Contains(out, `"samples":1797`) {
		t.Errorf("eval -data digits of weights alone:\n%s", out)
	}
	writeFiles(t, dir, map[string]string{"rows.csv": strings.Repeat(strings.Repeat("3,", 63)+"9\n", 2)})
	out := mustRun(t, dir, "predict", "-model", "m.safetensors", "-input", "rows.csv", "-csv-header=false")
	if !strings.HasPrefix(out, "row,class,p_0,p_1,") || strings.Count(out, "\n") != 3 {
		t.Errorf("predict of weights alone:\n%s", out)
	}
	if out := mustRun(t, dir, "info", "m.safetensors"); !strings.Contains(out, "1210 (F64)") {
		t.Errorf("info of weights alone:\n%s", out)
	}
	// Without -out the run continues in the file it resumed, as a CLI
	// checkpoint's does (it used to write ptrain.safetensors).
	mustRun(t, dir, "train", "-resume", "m.safetensors", "-data", "digits", "-epochs", "1", "-quiet")
	if _, err := os.Stat(filepath.Join(dir, "ptrain.safetensors")); err == nil {
		t.Error("resuming m.safetensors wrote ptrain.safetensors")
	}
	if _, ok := tensors(t, filepath.Join(dir, "m.safetensors")).Metadata[metaConfig]; !ok {
		t.Error("resuming m.safetensors did not write the run back to it")
	}
	mustRun(t, dir, "train", "-resume", "m.safetensors", "-data", "digits", "-epochs", "2", "-quiet", "-out", "r.safetensors")
	var c Config
	if err := json.Unmarshal([]byte(tensors(t, filepath.Join(dir, "r.safetensors")).Metadata[metaConfig]), &c); err != nil || c.DType != "float64" || c.Arch != "64-16:relu-10:softmax" {
		t.Errorf("the resumed run's config: %+v, %v", c, err)
	}
}

// A checkpoint the command wrote loads in the library with its optimizer
// state and progress, and parallel.Fit continues it to the bits of the
// command's uninterrupted run.
func TestCLICheckpointResumesInTheLibrary(t *testing.T) {
	dir := t.TempDir()
	common := []string{"-arch", "64-16:relu-10:softmax", "-optimizer", "rmsprop", "-momentum", "0.5", "-lr", "0.003", "-workers", "2", "-normalize", "zscore", "-quiet"}
	mustRun(t, dir, append([]string{"train", "-epochs", "2", "-out", "half.safetensors"}, common...)...)
	mustRun(t, dir, append([]string{"train", "-epochs", "4", "-out", "whole.safetensors"}, common...)...)
	half, err := ckpt.Load[float32](filepath.Join(dir, "half.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if half.Optimizer == nil || half.Optimizer.Config().Method != optim.RMSprop || half.Optimizer.Config().Momentum != 0.5 || half.Progress.Epoch != 2 || half.Optimizer.Steps() == 0 || half.Transform.Scale == nil {
		t.Fatalf("the CLI's checkpoint in the library: optimizer %v, progress %+v", half.Optimizer, half.Progress)
	}
	cfg := defaultConfig()
	if err := json.Unmarshal([]byte(half.Meta[metaConfig]), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Normalize = "none" // the checkpoint's transform, applied below
	sp, err := loadSplits(&cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp.setTransform(half.Transform)
	tr, err := parallel.New(half.Model, half.Optimizer, parallel.Config{Workers: 2, Seed: cfg.Seed})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(context.Background(), sp.train, sp.val, parallel.FitConfig{Epochs: 4, BatchSize: cfg.Batch, Shuffle: true, Seed: cfg.Seed, Start: half.Progress}); err != nil {
		t.Fatal(err)
	}
	whole, err := ckpt.Load[float32](filepath.Join(dir, "whole.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(half.Model.Params, whole.Model.Params) || !slices.Equal(half.Optimizer.State().Buffers["square_avg"], whole.Optimizer.State().Buffers["square_avg"]) {
		t.Fatal("the library's continuation differs from the CLI's uninterrupted run")
	}
	if tr.Progress() != whole.Progress {
		t.Errorf("progress %+v, the CLI's %+v", tr.Progress(), whole.Progress)
	}
	_ = os.Remove(filepath.Join(dir, "half.safetensors"))
}

// A checkpoint written before ptrain.optimizer (its optimizer's settings
// only in ptrain.config) resumes as it did: its state is loaded.
func TestCheckpointWithoutOptimizerMetadataResumes(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-arch", "64-16:relu-10:softmax", "-optimizer", "momentum", "-workers", "2", "-quiet", "-out", "new.safetensors")
	f := tensors(t, filepath.Join(dir, "new.safetensors"))
	delete(f.Metadata, ckpt.MetaOptimizer)
	var b bytes.Buffer
	if err := safetensors.Write(&b, f.Tensors, f.Metadata); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "old.safetensors"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"new", "old"} {
		mustRun(t, dir, "train", "-resume", name+".safetensors", "-epochs", "2", "-quiet", "-out", name+"2.safetensors")
	}
	a, o := tensors(t, filepath.Join(dir, "new2.safetensors")), tensors(t, filepath.Join(dir, "old2.safetensors"))
	for _, name := range []string{"dense.0.weight", "optim.momentum_buffer"} {
		if !bytes.Equal(a.Tensor(name).Data, o.Tensor(name).Data) {
			t.Fatalf("%s: resuming the file without %s differs", name, ckpt.MetaOptimizer)
		}
	}
}

// A checkpoint saved from Go code whose optimizer holds a learning-rate
// schedule resumes in the command on that schedule: its cosine with
// warm-up, not -schedule's default (constant), continues exactly where the
// library would; a -schedule or -warmup that contradicts it is refused.
func TestLibraryScheduleResumesInTheCLI(t *testing.T) {
	dir := t.TempDir()
	m, err := model.New[float32](model.MustParseSpec("64-16:relu-10:softmax"), 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	sp, err := loadSplits(&cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	steps := parallel.FitConfig{BatchSize: cfg.Batch}.StepsPerEpoch(sp.train)
	oc := optim.Config{Method: optim.SGD, LR: 0.05, Momentum: 0.8,
		Schedule: optim.Schedule{Kind: optim.Cosine, Min: 0.001, Epochs: 3, Warmup: 5, StepsPerEpoch: steps}}
	opt, err := optim.New[float32](oc, len(m.Params))
	if err != nil {
		t.Fatal(err)
	}
	c := &ckpt.Checkpoint[float32]{Model: m, Optimizer: opt, Task: new(data.Classification), Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
	fitLike(t, c, cfg, 2, 1)
	if err := ckpt.Save(filepath.Join(dir, "lib.safetensors"), c); err != nil {
		t.Fatal(err)
	}
	fitLike(t, c, cfg, 2, 3) // what the library's run would continue with

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-schedule", "cosine"}, "-schedule is cosine here, the checkpoint's is cosine:0.001"},
		{[]string{"-schedule", "constant"}, "-schedule is constant here, the checkpoint's is cosine:0.001"},
		{[]string{"-warmup", "2"}, "-warmup is 2 here, the checkpoint's is 5"},
	} {
		args := append([]string{"train", "-resume", "lib.safetensors", "-data", "digits", "-epochs", "3", "-quiet", "-out", "bad.safetensors"}, tc.args...)
		if _, errs, code := ptrain(t, dir, args...); code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("resume %v: exit %d, %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
	}
	mustRun(t, dir, "train", "-resume", "lib.safetensors", "-data", "digits", "-epochs", "3", "-workers", "2", "-quiet", "-out", "r.safetensors", "-schedule", "cosine:1e-3", "-warmup", "5")
	mustRun(t, dir, "train", "-resume", "lib.safetensors", "-data", "digits", "-epochs", "3", "-workers", "2", "-quiet", "-out", "r.safetensors", "-overwrite")
	r, err := ckpt.Load[float32](filepath.Join(dir, "r.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Model.Params, c.Model.Params) || r.Optimizer.Config() != opt.Config() {
		t.Errorf("resumed by the CLI: optimizer %+v, the library's %+v; the weights equal the library's: %v", r.Optimizer.Config(), opt.Config(), slices.Equal(r.Model.Params, c.Model.Params))
	}
}
