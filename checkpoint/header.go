package checkpoint

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// Header is what a checkpoint says but its tensors' values: what
// DecodeHeader reads, as image.DecodeConfig reads an image's size and
// color model, so that a program chooses the element type of Decode by
// DType, or describes a file, without reading its tensor data. Its fields
// are Checkpoint's, but the model (Spec and DType instead), the optimizer
// (its settings) and the feature transform, which is tensor data.
type Header struct {
	Spec  model.Spec // the architecture, checked against the tensors' shapes
	DType DType      // of the weights and the optimizer's state
	// Optimizer is the optimizer's settings; nil when the file has no
	// optimizer.
	Optimizer  *optim.Config
	Progress   parallel.Progress
	Task       *data.Task // nil when the file does not say
	Classes    []string
	Preprocess *data.Preprocess
	Split      data.SplitInfo
	BatchSize  int
	InputRange data.Range
	Meta       map[string]string

	progress progressJSON // as the file has it, with the optimizer's step
}

// DecodeHeader reads and checks everything f says but its tensors'
// values: the metadata the package writes (each within MaxMeta, or
// MaxPreprocess), and each tensor's name, shape and dtype against the
// architecture, the transform and the optimizer. It never reads a
// tensor's Data, so f may come from safetensors.ReadHeader, which reads
// the header alone. Decode runs the same checks, then checks the values
// as it builds the checkpoint.
func DecodeHeader(f *safetensors.File) (*Header, error) {
	h := &Header{Meta: map[string]string{}}
	for _, k := range []string{model.MetaArch, MetaProgress, MetaTask, MetaClasses, MetaTargets, MetaOptimizer, MetaTransform, MetaSplit, MetaBatch, MetaInputRange} {
		if n := len(f.Metadata[k]); n > MaxMeta {
			return nil, fmt.Errorf("metadata %q is %d bytes, more than the limit of %d (checkpoint.MaxMeta)", k, n, MaxMeta)
		}
	}
	if n := len(f.Metadata[MetaPreprocess]); n > MaxPreprocess {
		return nil, fmt.Errorf("metadata %q is %d bytes, more than the limit of %d (checkpoint.MaxPreprocess)", MetaPreprocess, n, MaxPreprocess)
	}
	arch, ok := f.Metadata[model.MetaArch]
	if !ok {
		return nil, fmt.Errorf("not a ptrain checkpoint (no %q metadata)", model.MetaArch)
	}
	sp, err := model.ParseSpec(arch)
	if err != nil {
		return nil, fmt.Errorf("metadata %q: %w", model.MetaArch, err)
	}
	h.Spec = sp
	if h.DType, err = checkWeights(f, sp); err != nil {
		return nil, err
	}
	if s, ok := f.Metadata[MetaProgress]; ok {
		if err := json.Unmarshal([]byte(s), &h.progress); err != nil {
			return nil, fmt.Errorf("metadata %q: %v", MetaProgress, err)
		}
		if err := h.progress.check(); err != nil {
			return nil, fmt.Errorf("metadata %q: %w", MetaProgress, err)
		}
	}
	h.Progress = h.progress.progress()
	if err := h.decodeTask(f); err != nil {
		return nil, err
	}
	if err := h.decodeProvenance(f); err != nil {
		return nil, err
	}
	for _, name := range []string{"data.scale", "data.shift"} {
		if t := f.Tensor(name); t != nil && (len(t.Shape) != 1 || t.Shape[0] != sp.Inputs) {
			return nil, fmt.Errorf("tensor %q: shape %v, want [%d] (the model's inputs)", t.Name, t.Shape, sp.Inputs)
		}
	}
	if f.Tensor("data.scale") == nil && f.Tensor("data.shift") != nil {
		return nil, fmt.Errorf(`tensor "data.shift" without "data.scale"`)
	}
	if err := checkTransformListed(f); err != nil {
		return nil, err
	}
	if s, ok := f.Metadata[MetaPreprocess]; ok {
		h.Preprocess = &data.Preprocess{}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(h.Preprocess); err != nil {
			return nil, fmt.Errorf("metadata %q: %v", MetaPreprocess, err)
		}
		if err := h.Preprocess.Validate(sp.Inputs, sp.Outputs(), h.Task != nil && *h.Task == data.Regression); err != nil {
			return nil, fmt.Errorf("metadata %q: %w", MetaPreprocess, err)
		}
	}
	if err := checkOptimizerState(f, sp.NumParams(), h.DType); err != nil {
		return nil, err
	}
	if err := h.decodeOptimizer(f); err != nil {
		return nil, err
	}
	for k, v := range f.Metadata {
		if k != model.MetaArch && k != "format" && !reserved(k) {
			h.Meta[k] = v
		}
	}
	return h, nil
}

// decodeOptimizer reads the optimizer's settings, which must keep exactly
// the state buffers the file has.
func (h *Header) decodeOptimizer(f *safetensors.File) error {
	var have []string
	for _, t := range f.Tensors {
		if name, ok := strings.CutPrefix(t.Name, "optim."); ok {
			have = append(have, name)
		}
	}
	slices.Sort(have)
	s, ok := f.Metadata[MetaOptimizer]
	if !ok {
		if len(have) > 0 {
			return fmt.Errorf("tensor %q without %q metadata: the optimizer's settings are unknown", "optim."+have[0], MetaOptimizer)
		}
		return nil
	}
	var oc optim.Config
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&oc); err != nil {
		return fmt.Errorf("metadata %q: %v", MetaOptimizer, err)
	}
	probe, err := optim.New[float32](oc, 1)
	if err != nil {
		return fmt.Errorf("metadata %q: %w", MetaOptimizer, err)
	}
	var want []string
	for name := range probe.State().Buffers {
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(have, want) {
		return fmt.Errorf("metadata %q: %v keeps the state %s, the file has %s", MetaOptimizer, oc.Method, names(want), names(have))
	}
	h.Optimizer = &oc
	return nil
}

func names(buffers []string) string {
	if len(buffers) == 0 {
		return "none"
	}
	return "optim." + strings.Join(buffers, ", optim.")
}

// decodeTask reads the task and the class names or target count, which
// must match the model's outputs.
func (h *Header) decodeTask(f *safetensors.File) error {
	out := h.Spec.Outputs()
	task, ok := f.Metadata[MetaTask]
	if !ok {
		if _, ok := f.Metadata[MetaClasses]; ok {
			return fmt.Errorf("metadata %q without %q", MetaClasses, MetaTask)
		}
		return nil
	}
	t, err := data.ParseTask(task)
	if err != nil {
		return fmt.Errorf("metadata %q is %s, want classification or regression", MetaTask, data.Quote(task))
	}
	h.Task = &t
	if t == data.Regression {
		s, ok := f.Metadata[MetaTargets]
		if n, err := strconv.Atoi(s); ok && (err != nil || n != out) {
			return fmt.Errorf("metadata %q is %s: the model has %d outputs", MetaTargets, data.Quote(s), out)
		}
		if _, ok := f.Metadata[MetaClasses]; ok {
			return fmt.Errorf("metadata %q in a regression checkpoint", MetaClasses)
		}
		return nil
	}
	s, ok := f.Metadata[MetaClasses]
	if !ok {
		return nil // classes known by their indices only
	}
	if err := json.Unmarshal([]byte(s), &h.Classes); err != nil {
		return fmt.Errorf("metadata %q: %v", MetaClasses, err)
	}
	want := out
	if out == 1 {
		want = 2 // one sigmoid output for two classes
	}
	if len(h.Classes) != want {
		return fmt.Errorf("metadata %q names %d classes, the model's %d outputs need %d", MetaClasses, len(h.Classes), out, want)
	}
	seen := make(map[string]bool, len(h.Classes))
	for _, c := range h.Classes {
		if c == "" || seen[c] {
			return fmt.Errorf("metadata %q: class name %s is empty or repeated", MetaClasses, data.Quote(c))
		}
		seen[c] = true
	}
	return nil
}
