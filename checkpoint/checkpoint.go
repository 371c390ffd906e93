package checkpoint

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// The __metadata__ keys the package writes and reads besides
// model.MetaArch. Meta may not use them.
const (
	MetaOptimizer  = "ptrain.optimizer"  // optim.Config as JSON
	MetaProgress   = "ptrain.progress"   // Progress and the optimizer's step, JSON
	MetaTask       = "ptrain.task"       // "classification" or "regression"
	MetaClasses    = "ptrain.classes"    // class names in output order, JSON
	MetaTargets    = "ptrain.targets"    // a regression model's output count
	MetaPreprocess = "ptrain.preprocess" // data.Preprocess as JSON
	// MetaTransform lists the transform's tensors, JSON: ["data.scale",
	// "data.shift"], ["data.scale"] or []. A file that has it must have
	// exactly those tensors (older files do not have it).
	MetaTransform = "ptrain.transform"
)

// Checkpoint is what a checkpoint file holds. Only Model is required.
type Checkpoint[T num.Float] struct {
	Model *model.Model[T]
	// Optimizer, with its settings and state (views, not copies), resumes
	// training exactly; nil saves the weights alone. It must be made for
	// len(Model.Params) parameters.
	Optimizer *optim.Optimizer[T]
	// Task says what the model's outputs are: data.Classification, one
	// output per class (one sigmoid output for two), or data.Regression,
	// the targets themselves. nil when unknown: the file does not say
	// (MetaTask absent), which data.Task's zero value, Classification,
	// could not tell apart. Set it with new(data.Classification) or
	// new(ds.Task).
	Task *data.Task
	// Classes names a classification model's classes in output order (a
	// model with one sigmoid output has two); nil when they have no names
	// but their indices. Only with Task data.Classification.
	Classes []string
	// Transform is the feature transform x·Scale + Shift applied to every
	// row before the model (data.Transform.Apply); zero when there is none.
	Transform data.Transform
	// Preprocess, for a model of a table, maps the table's raw columns to
	// the features Transform then scales, and its outputs back to the
	// target's units; nil when the features are used as read.
	Preprocess *data.Preprocess
	// Progress is where a Fit stands: pass it as FitConfig.Start to resume.
	Progress parallel.Progress
	// Split records the held-out test split of the training data
	// (data.TestSplit); zero when unknown.
	Split data.SplitInfo
	// BatchSize is the training batch size; 0 when unknown.
	BatchSize int
	// InputRange is the range of the model's inputs (after Transform) on
	// the training data, to tell data scaled otherwise; zero when unknown.
	// TrainedOn sets it with Transform, Split and BatchSize.
	InputRange data.Range
	// Meta is any other metadata, kept as it is: keys other than
	// model.MetaArch, "format" and the Meta* constants.
	Meta map[string]string
}

// progressJSON is Progress in JSON, which has no +Inf, with the
// optimizer's step count.
type progressJSON struct {
	Epoch       int       `json:"epoch"`
	Batch       int       `json:"batch"`
	Step        int64     `json:"step"`
	BestValLoss *float64  `json:"best_val_loss"`
	BestEpoch   int       `json:"best_epoch"`
	BadEpochs   int       `json:"bad_epochs"`
	Sums        *sumsJSON `json:"sums,omitempty"` // mid-epoch only
}

// sumsJSON is parallel.EpochSums in JSON. Its floats are kept as their
// IEEE 754 bits: exact, and the summaries may hold ±Inf, which JSON has not.
type sumsJSON struct {
	LossBits  uint64   `json:"loss_bits"`
	Correct   int64    `json:"correct"`
	Samples   int      `json:"samples"`
	LRBits    uint64   `json:"lr_bits"`
	Layers    []string `json:"layers"` // name:activation, e.g. dense.0:2
	StatsBits []uint64 `json:"stats_bits"`
}

func newSumsJSON(s *parallel.EpochSums) *sumsJSON {
	if s == nil {
		return nil
	}
	j := &sumsJSON{LossBits: math.Float64bits(s.Loss), Correct: s.Correct, Samples: s.Samples, LRBits: math.Float64bits(s.LR), Layers: []string{}, StatsBits: []uint64{}}
	for _, l := range s.Layers {
		j.Layers = append(j.Layers, l.Layer+":"+strconv.Itoa(int(l.Act)))
	}
	for _, v := range s.Stats {
		j.StatsBits = append(j.StatsBits, math.Float64bits(v))
	}
	return j
}

func (j *sumsJSON) sums() (*parallel.EpochSums, error) {
	s := &parallel.EpochSums{Loss: math.Float64frombits(j.LossBits), Correct: j.Correct, Samples: j.Samples, LR: math.Float64frombits(j.LRBits)}
	for _, l := range j.Layers {
		i := strings.LastIndexByte(l, ':')
		act, err := strconv.Atoi(l[i+1:])
		if i < 0 || err != nil {
			return nil, fmt.Errorf("epoch sums: layer %s is not name:activation", data.Quote(l))
		}
		s.Layers = append(s.Layers, parallel.LayerStats{Layer: l[:i], Act: model.ActKind(act)})
	}
	for _, b := range j.StatsBits {
		s.Stats = append(s.Stats, math.Float64frombits(b))
	}
	return s, nil
}

func (c progressJSON) progress() parallel.Progress {
	p := parallel.Progress{Epoch: c.Epoch, Batch: c.Batch, BestEpoch: c.BestEpoch, BadEpochs: c.BadEpochs, BestValLoss: math.Inf(1)}
	if c.BestValLoss != nil {
		p.BestValLoss = *c.BestValLoss
	}
	if c.Sums != nil && c.Batch > 0 {
		p.Sums, _ = c.Sums.sums() // checked by check
	}
	return p
}

// Save checks c as Load would check the file and writes it to path
// atomically (safetensors.WriteFileAtomic): a crash mid-write leaves the
// previous file as it was.
func Save[T num.Float](path string, c *Checkpoint[T]) error {
	f, err := Encode(c)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return safetensors.WriteFileAtomic(path, func(w io.Writer) error { return safetensors.Write(w, f.Tensors, f.Metadata) })
}

// Write checks c as Load would check the file and writes it to w; nothing
// is written if the check fails.
func Write[T num.Float](w io.Writer, c *Checkpoint[T]) error {
	f, err := Encode(c)
	if err != nil {
		return err
	}
	return safetensors.Write(w, f.Tensors, f.Metadata)
}

// Encode returns c's tensors and metadata, checked as Decode checks a file
// (and refused with the reason otherwise). The tensors' data are views of
// c's parameters, optimizer state and transform (safetensors.Encode), to
// be written out before those change.
func Encode[T num.Float](c *Checkpoint[T]) (*safetensors.File, error) {
	if c == nil || c.Model == nil {
		return nil, fmt.Errorf("checkpoint: no model to save")
	}
	m := c.Model
	meta := m.Metadata()
	for k, v := range c.Meta {
		if _, taken := meta[k]; taken || reserved(k) {
			return nil, fmt.Errorf("checkpoint: Meta key %q is the package's own (set the field that holds it instead)", k)
		}
		meta[k] = v
	}
	tensors := m.Tensors()
	prog := progressJSON{Epoch: c.Progress.Epoch, Batch: c.Progress.Batch, BestEpoch: c.Progress.BestEpoch, BadEpochs: c.Progress.BadEpochs}
	if c.Progress.Batch > 0 {
		prog.Sums = newSumsJSON(c.Progress.Sums)
	}
	if v := c.Progress.BestValLoss; !math.IsInf(v, 0) && !math.IsNaN(v) {
		prog.BestValLoss = &v
	}
	if o := c.Optimizer; o != nil {
		if o.Len() != len(m.Params) {
			return nil, fmt.Errorf("checkpoint: the optimizer is for %d parameters, the model has %d", o.Len(), len(m.Params))
		}
		st := o.State()
		for _, name := range slices.Sorted(maps.Keys(st.Buffers)) {
			tensors = append(tensors, safetensors.Tensor{Name: "optim." + name, DType: num.DType[T](), Shape: []int{len(st.Buffers[name])}, Data: safetensors.Encode(st.Buffers[name])})
		}
		b, err := json.Marshal(o.Config())
		if err != nil {
			return nil, fmt.Errorf("checkpoint: the optimizer's settings: %w", err)
		}
		meta[MetaOptimizer] = string(b)
		prog.Step = st.Step
	}
	listed := []string{}
	if v := c.Transform.Scale; v != nil {
		tensors = append(tensors, safetensors.Tensor{Name: "data.scale", DType: "F64", Shape: []int{len(v)}, Data: safetensors.Encode(v)})
		listed = append(listed, "data.scale")
	}
	if v := c.Transform.Shift; v != nil {
		tensors = append(tensors, safetensors.Tensor{Name: "data.shift", DType: "F64", Shape: []int{len(v)}, Data: safetensors.Encode(v)})
		listed = append(listed, "data.shift")
	}
	lb, _ := json.Marshal(listed)
	meta[MetaTransform] = string(lb)
	b, _ := json.Marshal(prog)
	meta[MetaProgress] = string(b)
	if c.Preprocess != nil {
		s, err := EncodePreprocess(c.Preprocess)
		if err != nil {
			return nil, err
		}
		meta[MetaPreprocess] = s
	}
	if err := encodeProvenance(c, meta); err != nil {
		return nil, err
	}
	if c.Task == nil {
		if c.Classes != nil {
			return nil, fmt.Errorf("checkpoint: Classes without Task data.Classification")
		}
	} else {
		switch *c.Task {
		case data.Classification:
			if c.Classes != nil {
				b, _ := json.Marshal(c.Classes)
				meta[MetaClasses] = string(b)
			}
		case data.Regression:
			if c.Classes != nil {
				return nil, fmt.Errorf("checkpoint: Classes with Task data.Regression")
			}
			meta[MetaTargets] = strconv.Itoa(m.Spec.Outputs())
		default:
			return nil, fmt.Errorf("checkpoint: Task %d: want data.Classification, data.Regression or nil", int(*c.Task))
		}
		meta[MetaTask] = c.Task.String() // "classification" or "regression"
	}
	f := &safetensors.File{Tensors: tensors, Metadata: meta}
	if _, err := Check(f); err != nil {
		return nil, fmt.Errorf("refusing to write a checkpoint that could not be read back: %w", err)
	}
	return f, nil
}

func reserved(k string) bool {
	switch k {
	case MetaOptimizer, MetaProgress, MetaTask, MetaClasses, MetaTargets, MetaTransform, MetaPreprocess, MetaSplit, MetaBatch, MetaInputRange:
		return true
	}
	return false
}

// Load reads the checkpoint at path, checks all of it (see the package
// doc) and builds it with element type T, converting the file's F32 or
// F64 weights and optimizer state if they are the other. Errors name the
// file.
func Load[T num.Float](path string) (*Checkpoint[T], error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Decode[T](f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Decode checks everything a parsed file says, its header as
// DecodeHeader does and then every tensor's values in one pass, and
// builds its checkpoint with element type T. The tensors are copied: f
// may change afterwards. A program that chooses T by the file calls
// DecodeHeader first, which reads no tensor data.
func Decode[T num.Float](f *safetensors.File) (*Checkpoint[T], error) {
	h, tf, err := check(f)
	if err != nil {
		return nil, err
	}
	m, err := model.FromFile[T](f)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint[T]{Model: m, Task: h.Task, Classes: h.Classes, Transform: tf, Preprocess: h.Preprocess, Progress: h.Progress, Meta: h.Meta,
		Split: h.Split, BatchSize: h.BatchSize, InputRange: h.InputRange}
	if h.Optimizer != nil {
		if c.Optimizer, err = optim.New[T](*h.Optimizer, len(m.Params)); err != nil {
			return nil, fmt.Errorf("metadata %q: %w", MetaOptimizer, err)
		}
		st := optim.State[T]{Step: h.progress.Step, Buffers: map[string][]T{}}
		for _, t := range f.Tensors {
			if name, ok := strings.CutPrefix(t.Name, "optim."); ok {
				buf := make([]T, t.Shape[0])
				if err := safetensors.Decode(buf, t.DType, t.Data); err != nil {
					return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
				}
				st.Buffers[name] = buf
			}
		}
		if err := c.Optimizer.LoadState(st); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// EncodePreprocess is p as ptrain.preprocess holds it, or an error naming
// MaxPreprocess when it is longer than a checkpoint may hold: a program
// may call it once p is fitted, before training a model it could not save.
func EncodePreprocess(p *data.Preprocess) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("checkpoint: the preprocessing: %w", err)
	}
	if len(b) > MaxPreprocess {
		return "", fmt.Errorf("checkpoint: the preprocessing is %d bytes as JSON, more than the limit of %d (checkpoint.MaxPreprocess): drop or bin the text columns of many long categories", len(b), MaxPreprocess)
	}
	return string(b), nil
}
