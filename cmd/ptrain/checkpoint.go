package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// A checkpoint is one safetensors file: the model's dense.<i>.weight and
// dense.<i>.bias (so that any safetensors reader sees a plain model), the
// optimizer's state as optim.<buffer> in the parameter layout, and the
// feature transform as data.scale / data.shift (F64). The metadata holds the
// architecture, the full Config, where training stands, the class names
// and provenance: everything needed to resume exactly, or to evaluate and
// predict without the original flags.
const (
	metaConfig   = "ptrain.config"
	metaProgress = "ptrain.progress"
	metaClasses  = "ptrain.classes"
	metaTask     = "ptrain.task"
	metaOutputs  = "ptrain.targets"
	metaVersion  = "ptrain.version"
	metaCreated  = "ptrain.created"
	metaBackend  = "ptrain.blas"
	metaTrained  = "ptrain.samples_seen"
	metaHistory  = "ptrain.history" // every epoch's figures, as -metrics has them
)

// ckptProgress is parallel.Progress in JSON (which has no +Inf).
type ckptProgress struct {
	Epoch       int      `json:"epoch"`
	Batch       int      `json:"batch"`
	Step        int64    `json:"step"`
	BestValLoss *float64 `json:"best_val_loss"`
	BestEpoch   int      `json:"best_epoch"`
	BadEpochs   int      `json:"bad_epochs"`
}

func toCkptProgress(p parallel.Progress, step int64) ckptProgress {
	c := ckptProgress{Epoch: p.Epoch, Batch: p.Batch, Step: step, BestEpoch: p.BestEpoch, BadEpochs: p.BadEpochs}
	if !math.IsInf(p.BestValLoss, 0) && !math.IsNaN(p.BestValLoss) {
		v := p.BestValLoss
		c.BestValLoss = &v
	}
	return c
}

func (c ckptProgress) progress() parallel.Progress {
	p := parallel.Progress{Epoch: c.Epoch, Batch: c.Batch, BestEpoch: c.BestEpoch, BadEpochs: c.BadEpochs, BestValLoss: math.Inf(1)}
	if c.BestValLoss != nil {
		p.BestValLoss = *c.BestValLoss
	}
	return p
}

// checkpoint is what a checkpoint file holds, decoded.
type checkpoint struct {
	path      string
	file      *safetensors.File
	spec      model.Spec // from the metadata, checked against the tensors
	dtype     string     // of the weights: F32 or F64
	cfg       Config
	progress  ckptProgress
	classes   []string
	task      string
	transform data.Transform
	history   []epochRow // nil in checkpoints older than ptrain.history
}

// saveCheckpoint writes the model, optimizer and run state to path
// atomically: a crash mid-write leaves the previous checkpoint intact.
func saveCheckpoint[T num.Float](path string, m *model.Model[T], opt *optim.Optimizer[T], cfg Config, prog parallel.Progress, ds *data.Dataset, tf data.Transform, history []epochRow) error {
	tensors := m.Tensors()
	st := opt.State()
	for _, name := range slices.Sorted(maps.Keys(st.Buffers)) {
		tensors = append(tensors, safetensors.Tensor{Name: "optim." + name, DType: num.DType[T](), Shape: []int{len(st.Buffers[name])}, Data: safetensors.Encode(st.Buffers[name])})
	}
	if tf.Scale != nil {
		tensors = append(tensors, safetensors.Tensor{Name: "data.scale", DType: "F64", Shape: []int{len(tf.Scale)}, Data: safetensors.Encode(tf.Scale)})
	}
	if tf.Shift != nil {
		tensors = append(tensors, safetensors.Tensor{Name: "data.shift", DType: "F64", Shape: []int{len(tf.Shift)}, Data: safetensors.Encode(tf.Shift)})
	}
	meta := m.Metadata()
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	cfg.Data = absData(cfg.Data)
	meta[metaConfig] = js(cfg)
	meta[metaProgress] = js(toCkptProgress(prog, st.Step))
	meta[metaTask] = ds.Task.String()
	if ds.Task == data.Classification {
		meta[metaClasses] = js(ds.Classes)
	} else {
		meta[metaOutputs] = fmt.Sprint(ds.Outputs)
	}
	if history == nil {
		history = []epochRow{}
	}
	meta[metaHistory] = js(history)
	meta[metaVersion] = version
	meta[metaCreated] = time.Now().UTC().Format(time.RFC3339)
	meta[metaBackend] = num.Backend() + ", " + runtime.Version()
	if _, err := decodeCheckpoint(path, &safetensors.File{Metadata: meta, Tensors: tensors}, true); err != nil {
		return fmt.Errorf("refusing to write a checkpoint that could not be read back: %w", err)
	}
	return writeFileAtomic(path, func(w io.Writer) error { return safetensors.Write(w, tensors, meta) })
}

// readCheckpoint reads a checkpoint written by saveCheckpoint and checks
// all of it (see decodeCheckpoint). Every problem is reported with the
// file's name.
func readCheckpoint(path string) (*checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeCheckpoint(path, f, true)
}

// applyTransform gives ds the feature transform the model was trained
// with, after checking that ds has the features it was fitted on.
func (ck *checkpoint) applyTransform(ds *data.Dataset) error {
	if ck.transform.Scale == nil {
		return nil
	}
	if len(ck.transform.Scale) != ds.Features {
		return fmt.Errorf("%s: %d features per row, the model was trained on %d", ds.Name, ds.Features, len(ck.transform.Scale))
	}
	ck.transform.Apply(ds)
	return nil
}

// loadModel builds the checkpoint's model with element type T.
func loadModel[T num.Float](ck *checkpoint) (*model.Model[T], error) {
	m, err := model.FromFile[T](ck.file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ck.path, err)
	}
	return m, nil
}

// loadOptimizerState restores optim.* tensors into opt.
func loadOptimizerState[T num.Float](ck *checkpoint, opt *optim.Optimizer[T]) error {
	st := optim.State[T]{Step: ck.progress.Step, Buffers: map[string][]T{}}
	for _, t := range ck.file.Tensors {
		name, ok := strings.CutPrefix(t.Name, "optim.")
		if !ok {
			continue
		}
		n := 0
		if len(t.Shape) == 1 {
			n = t.Shape[0]
		}
		buf := make([]T, n)
		if err := safetensors.Decode(buf, t.DType, t.Data); err != nil {
			return fmt.Errorf("%s: tensor %q: %w", ck.path, t.Name, err)
		}
		st.Buffers[name] = buf
	}
	if err := opt.LoadState(st); err != nil {
		return fmt.Errorf("%s: %w", ck.path, err)
	}
	return nil
}

// initFrom loads -init weights: any safetensors file with the model's
// tensor names (dense.<i>.weight (out, in), conv.<i>.weight (out, in, kh,
// kw), bn.<i>.running_mean, …), F32 or F64, including one written by
// another tool. A ptrain file is checked whole first (decodeCheckpoint).
func initFrom[T num.Float](m *model.Model[T], path string) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("-init: %w", err)
	}
	if _, ok := f.Metadata[model.MetaArch]; ok { // a ptrain file: check all it says
		if _, err := decodeCheckpoint(path, f, false); err != nil {
			return fmt.Errorf("-init: %w", err)
		}
	}
	if err := m.SetWeights(f); err != nil {
		var want, found []string
		for _, l := range m.Layout.Layers {
			for _, t := range append(slices.Clone(l.Params), l.Buffers...) {
				want = append(want, fmt.Sprintf("%s %v", t.Name, t.Shape))
			}
		}
		for _, t := range f.Tensors {
			found = append(found, fmt.Sprintf("%s %v", t.Name, t.Shape))
		}
		return fmt.Errorf("-init %s: %w; expected the tensors %s; the file has %s (dense.i is the i-th nn.Linear of a PyTorch Sequential, conv.i its i-th nn.Conv2d, bn.i its i-th BatchNorm; a state_dict names them by position among all modules, e.g. 0.weight, 2.weight: rename them, see the README)",
			path, err, strings.Join(want, ", "), strings.Join(found, ", "))
	}
	return nil
}
