package checkpoint

import (
	"bytes"
	"context"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// trained is a model and an optimizer after a few steps on the digits,
// with a z-score transform: every part of a checkpoint is non-trivial.
func trained[T interface{ float32 | float64 }](t *testing.T, method optim.Method) (*Checkpoint[T], *data.Dataset) {
	t.Helper()
	ds, err := data.Digits()
	if err != nil {
		t.Fatal(err)
	}
	train, _, err := ds.Split(0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := data.FitTransform(train, "zscore")
	if err != nil {
		t.Fatal(err)
	}
	tf.Apply(train)
	m, err := model.New[T](model.MustParseSpec("64-12:relu-10:softmax"), 3)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.New[T](optim.Defaults(method), len(m.Params))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(context.Background(), train, nil, parallel.FitConfig{Epochs: 2, BatchSize: 50, Shuffle: true}); err != nil {
		t.Fatal(err)
	}
	p := tr.Progress()
	p.BestValLoss, p.BestEpoch, p.BadEpochs = 0.25, 1, 1
	return &Checkpoint[T]{Model: m, Optimizer: opt, Task: new(data.Classification), Classes: ds.Classes, Transform: tf, Progress: p,
		Meta: map[string]string{"ptrain.config": `{"lr":0.1}`, "mine": "x"}}, train
}

func TestSaveLoadKeepsEverything(t *testing.T) {
	for _, method := range []optim.Method{optim.SGD, optim.Momentum, optim.RMSprop, optim.Adam} {
		c, _ := trained[float64](t, method)
		path := filepath.Join(t.TempDir(), "c.safetensors")
		if err := Save(path, c); err != nil {
			t.Fatal(err)
		}
		got, err := Load[float64](path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Model.Params, c.Model.Params) || got.Model.Spec.String() != c.Model.Spec.String() {
			t.Errorf("%v: the model changed", method)
		}
		if got.Optimizer.Config() != c.Optimizer.Config() || got.Optimizer.Steps() != c.Optimizer.Steps() {
			t.Errorf("%v: optimizer %+v step %d, want %+v step %d", method, got.Optimizer.Config(), got.Optimizer.Steps(), c.Optimizer.Config(), c.Optimizer.Steps())
		}
		want := c.Optimizer.State().Buffers
		if have := got.Optimizer.State().Buffers; len(have) != len(want) {
			t.Errorf("%v: state buffers %v, want %v", method, slices.Collect(maps.Keys(have)), slices.Collect(maps.Keys(want)))
		}
		for name, buf := range want {
			if !slices.Equal(got.Optimizer.State().Buffers[name], buf) {
				t.Errorf("%v: state %q changed", method, name)
			}
		}
		if got.Task == nil || *got.Task != data.Classification || !slices.Equal(got.Classes, c.Classes) || got.Progress != c.Progress ||
			!slices.Equal(got.Transform.Scale, c.Transform.Scale) || !slices.Equal(got.Transform.Shift, c.Transform.Shift) {
			t.Errorf("%v: got task %v classes %v progress %+v, want %v %v %+v (or the transform changed)", method, got.Task, got.Classes, got.Progress, c.Task, c.Classes, c.Progress)
		}
		if !maps.Equal(got.Meta, c.Meta) {
			t.Errorf("%v: Meta %v, want %v", method, got.Meta, c.Meta)
		}
	}
}

// A float32 checkpoint loads as float64 (and back), values converted.
func TestLoadConvertsTheElementType(t *testing.T) {
	c, _ := trained[float32](t, optim.Adam)
	var buf bytes.Buffer
	if err := Write(&buf, c); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if dtype, err := Check(f); err != nil || dtype != F32 {
		t.Fatalf("Check: %q, %v; want F32", dtype, err)
	}
	got, err := Decode[float64](f)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range c.Model.Params {
		if got.Model.Params[i] != float64(v) {
			t.Fatalf("parameter %d: %v, want %v", i, got.Model.Params[i], v)
		}
	}
	if got.Optimizer.State().Buffers["exp_avg_sq"][7] != float64(c.Optimizer.State().Buffers["exp_avg_sq"][7]) {
		t.Fatal("the optimizer state was not converted")
	}
}

// Model.SaveFile's file is a checkpoint of weights alone.
func TestModelSaveFileIsACheckpoint(t *testing.T) {
	c, _ := trained[float32](t, optim.Adam)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := c.Model.SaveFile(path, nil); err != nil {
		t.Fatal(err)
	}
	got, err := Load[float32](path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Optimizer != nil || got.Task != nil || got.Classes != nil || got.Transform.Scale != nil || got.Progress.Epoch != 0 || len(got.Meta) != 0 {
		t.Fatalf("weights alone decoded as %+v", got)
	}
	if !slices.Equal(got.Model.Params, c.Model.Params) {
		t.Fatal("the weights changed")
	}
}

// Save refuses what Load would refuse, and writes nothing.
func TestSaveRefusesWhatLoadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(c *Checkpoint[float32])
	}{
		{"nan-weight", `"dense.0.weight": element 5 is NaN`, func(c *Checkpoint[float32]) { c.Model.Params[5] = float32(math.NaN()) }},
		{"reserved-meta", `Meta key "ptrain.progress"`, func(c *Checkpoint[float32]) { c.Meta[MetaProgress] = "{}" }},
		{"arch-meta", `Meta key "ptrain.arch"`, func(c *Checkpoint[float32]) { c.Meta[model.MetaArch] = "64-10" }},
		{"classes-count", "names 3 classes, the model's 10 outputs need 10", func(c *Checkpoint[float32]) { c.Classes = []string{"a", "b", "c"} }},
		{"classes-without-task", "Classes without Task", func(c *Checkpoint[float32]) { c.Task = nil }},
		{"bad-task", "Task 7: want data.Classification, data.Regression or nil", func(c *Checkpoint[float32]) { c.Task = new(data.Task(7)) }},
		{"transform-width", `"data.scale": shape [3], want [64]`, func(c *Checkpoint[float32]) { c.Transform.Scale = c.Transform.Scale[:3] }},
		{"optimizer-size", "the optimizer is for 5 parameters", func(c *Checkpoint[float32]) { c.Optimizer, _ = optim.New[float32](optim.Defaults(optim.SGD), 5) }},
		{"negative-second-moment", `"optim.exp_avg_sq": element 2 is -1`, func(c *Checkpoint[float32]) { c.Optimizer.State().Buffers["exp_avg_sq"][2] = -1 }},
		{"progress", "best epoch 9 outside [0, 2]", func(c *Checkpoint[float32]) { c.Progress.BestEpoch = 9 }},
		{"no-model", "no model", func(c *Checkpoint[float32]) { c.Model = nil }},
	} {
		c, _ := trained[float32](t, optim.Adam)
		tc.edit(c)
		path := filepath.Join(t.TempDir(), "c.safetensors")
		err := Save(path, c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
		if _, serr := os.Stat(path); serr == nil {
			t.Errorf("%s: written although refused", tc.name)
		}
	}
}

// Load refuses a file that lies about its optimizer, and names the file.
func TestLoadChecksTheOptimizer(t *testing.T) {
	c, _ := trained[float32](t, optim.Adam)
	var buf bytes.Buffer
	if err := Write(&buf, c); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		edit       func(f *safetensors.File)
	}{
		{"method", `"ptrain.optimizer": sgd keeps the state none, the file has optim.exp_avg, optim.exp_avg_sq`, func(f *safetensors.File) {
			f.Metadata[MetaOptimizer] = `{"method":"sgd","lr":0.01}`
		}},
		{"unknown-method", `"ptrain.optimizer"`, func(f *safetensors.File) { f.Metadata[MetaOptimizer] = `{"method":"lion"}` }},
		{"bad-lr", "learning rate -1", func(f *safetensors.File) {
			f.Metadata[MetaOptimizer] = strings.Replace(f.Metadata[MetaOptimizer], `"lr":0.001`, `"lr":-1`, 1)
		}},
		{"state-without-settings", `tensor "optim.exp_avg" without "ptrain.optimizer" metadata`, func(f *safetensors.File) { delete(f.Metadata, MetaOptimizer) }},
		{"classes-without-task", `"ptrain.classes" without "ptrain.task"`, func(f *safetensors.File) { delete(f.Metadata, MetaTask) }},
		{"targets", `"ptrain.targets" is "3"`, func(f *safetensors.File) {
			f.Metadata[MetaTask], f.Metadata[MetaTargets] = "regression", "3"
			delete(f.Metadata, MetaClasses)
		}},
	} {
		f, err := safetensors.Parse(bytes.Clone(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		tc.edit(f)
		var out bytes.Buffer
		if err := safetensors.Write(&out, f.Tensors, f.Metadata); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), tc.name+".safetensors")
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = Load[float32](path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error with the file name and %q", tc.name, err, tc.want)
		}
	}
}

// A loaded checkpoint resumes exactly: two epochs, saved, loaded and two
// more give the bits of four uninterrupted epochs.
func TestResumeIsExact(t *testing.T) {
	run := func(c *Checkpoint[float64], train *data.Dataset, epochs int) {
		tr, err := parallel.New(c.Model, c.Optimizer, parallel.Config{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Fit(context.Background(), train, nil, parallel.FitConfig{Epochs: epochs, BatchSize: 50, Shuffle: true, Start: c.Progress}); err != nil {
			t.Fatal(err)
		}
		c.Progress = tr.Progress()
	}
	whole, train := trained[float64](t, optim.Adam) // two epochs
	whole.Progress = parallel.Progress{Epoch: 2, BestValLoss: math.Inf(1)}
	path := filepath.Join(t.TempDir(), "c.safetensors")
	if err := Save(path, whole); err != nil {
		t.Fatal(err)
	}
	run(whole, train, 4)
	resumed, err := Load[float64](path)
	if err != nil {
		t.Fatal(err)
	}
	run(resumed, train, 4)
	if !slices.Equal(resumed.Model.Params, whole.Model.Params) {
		t.Fatal("the resumed run's weights differ from the uninterrupted run's")
	}
}

// The task is written as the JSON value it always was, "classification"
// or "regression" under MetaTask, or not at all for a nil Task, and reads
// back as the same data.Task or nil.
func TestTaskMetadata(t *testing.T) {
	for _, tc := range []struct {
		task *data.Task
		meta string // "" for absent
	}{{nil, ""}, {new(data.Classification), "classification"}, {new(data.Regression), "regression"}} {
		c, _ := trained[float32](t, optim.SGD)
		c.Task, c.Classes = tc.task, nil
		f, err := Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := f.Metadata[MetaTask]; got != tc.meta || ok != (tc.meta != "") {
			t.Errorf("Task %v: metadata %q = %q (present %v), want %q", tc.task, MetaTask, got, ok, tc.meta)
		}
		h, err := DecodeHeader(f)
		if err != nil {
			t.Fatal(err)
		}
		if (h.Task == nil) != (tc.task == nil) || h.Task != nil && *h.Task != *tc.task {
			t.Errorf("Task %v read back as %v", tc.task, h.Task)
		}
	}
}
