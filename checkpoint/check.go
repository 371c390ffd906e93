package checkpoint

import (
	le "encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// header is what check decodes from a file besides the tensors.
type header struct {
	spec       model.Spec
	dtype      string // of the weights: F32 or F64
	optimizer  *optim.Config
	progress   progressJSON
	task       Task
	classes    []string
	transform  data.Transform
	preprocess *data.Preprocess
	// provenance.go's
	split      data.SplitInfo
	batch      int
	inputRange data.Range
}

// Check checks everything f says, as Decode does, without building the
// model, and returns the element type of its weights: "F32" or "F64". A
// program that chooses T by the file (the ptrain command) calls it before
// Decode.
func Check(f *safetensors.File) (dtype string, err error) {
	h, err := check(f)
	if err != nil {
		return "", err
	}
	return h.dtype, nil
}

// MaxMeta bounds each metadata value the package decodes (the
// architecture, progress, task, classes, targets, optimizer, transform,
// split, batch size and input range) but the preprocessing: far more
// than any model needs (the split and input range are under 200 bytes),
// and little enough that decoding one costs a bounded time and memory.
const MaxMeta = 1 << 20

// MaxPreprocess bounds ptrain.preprocess, which holds every category of
// every text column of a table (up to data.MaxLevels = 4096 each, of any
// length): MaxMeta would refuse a file ptrain itself wrote for a table of
// a few text columns of long texts (4096 categories of 100 bytes are
// 0.4 MB a column). 32 MiB is 4096 categories of 60 bytes in each of 128
// text columns, a model of half a million inputs; Encode refuses more, so
// that no checkpoint is written that could not be read back.
const MaxPreprocess = 32 << 20

func check(f *safetensors.File) (*header, error) {
	h := &header{}
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
	h.spec = sp
	if h.dtype, err = checkWeights(f, sp); err != nil {
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
	if err := h.decodeTask(f); err != nil {
		return nil, err
	}
	if err := h.decodeProvenance(f); err != nil {
		return nil, err
	}
	for name, dst := range map[string]*[]float64{"data.scale": &h.transform.Scale, "data.shift": &h.transform.Shift} {
		if t := f.Tensor(name); t != nil {
			if *dst, err = decodeVector(t, sp.Inputs, "the model's inputs"); err != nil {
				return nil, err
			}
		}
	}
	if h.transform.Scale == nil && h.transform.Shift != nil {
		return nil, fmt.Errorf(`tensor "data.shift" without "data.scale"`)
	}
	if err := checkTransformListed(f); err != nil {
		return nil, err
	}
	if s, ok := f.Metadata[MetaPreprocess]; ok {
		h.preprocess = &data.Preprocess{}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(h.preprocess); err != nil {
			return nil, fmt.Errorf("metadata %q: %v", MetaPreprocess, err)
		}
		if err := h.preprocess.Validate(sp.Inputs, sp.Outputs(), h.task == Regression); err != nil {
			return nil, fmt.Errorf("metadata %q: %w", MetaPreprocess, err)
		}
	}
	if err := checkOptimizerState(f, sp.NumParams(), h.dtype); err != nil {
		return nil, err
	}
	return h, h.decodeOptimizer(f)
}

// decodeOptimizer reads the optimizer's settings, which must keep exactly
// the state buffers the file has.
func (h *header) decodeOptimizer(f *safetensors.File) error {
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
	h.optimizer = &oc
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
func (h *header) decodeTask(f *safetensors.File) error {
	out := h.spec.Outputs()
	task, ok := f.Metadata[MetaTask]
	switch {
	case !ok:
		if _, ok := f.Metadata[MetaClasses]; ok {
			return fmt.Errorf("metadata %q without %q", MetaClasses, MetaTask)
		}
		return nil
	case task != string(Classification) && task != string(Regression):
		return fmt.Errorf("metadata %q is %s, want classification or regression", MetaTask, data.Quote(task))
	}
	h.task = Task(task)
	if h.task == Regression {
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
	if err := json.Unmarshal([]byte(s), &h.classes); err != nil {
		return fmt.Errorf("metadata %q: %v", MetaClasses, err)
	}
	want := out
	if out == 1 {
		want = 2 // one sigmoid output for two classes
	}
	if len(h.classes) != want {
		return fmt.Errorf("metadata %q names %d classes, the model's %d outputs need %d", MetaClasses, len(h.classes), out, want)
	}
	seen := make(map[string]bool, len(h.classes))
	for _, c := range h.classes {
		if c == "" || seen[c] {
			return fmt.Errorf("metadata %q: class name %s is empty or repeated", MetaClasses, data.Quote(c))
		}
		seen[c] = true
	}
	return nil
}

// checkWeights checks every tensor the spec's layout names (dense and
// conv weights and biases, batch norm's weight, bias and running
// statistics) without copying them, and returns the weights' common dtype.
// num_batches_tracked is I64, as PyTorch keeps it.
func checkWeights(f *safetensors.File, sp model.Spec) (string, error) {
	layout, err := sp.Layout()
	if err != nil {
		return "", fmt.Errorf("metadata %q: %w", model.MetaArch, err)
	}
	dtype := ""
	count := map[string]int{} // layers with tensors, per kind
	for _, l := range layout.Layers {
		if kind, _, ok := strings.Cut(l.Name, "."); ok {
			count[kind]++
		}
		for _, info := range slices.Concat(l.Params, l.Buffers) {
			t := f.Tensor(info.Name)
			if t == nil {
				return "", fmt.Errorf("tensor %q: %w (the architecture %s needs it)", info.Name, safetensors.ErrNoTensor, sp)
			}
			if !slices.Equal(t.Shape, info.Shape) {
				return "", fmt.Errorf("tensor %q: shape %v, the architecture %s needs %v", info.Name, t.Shape, sp, info.Shape)
			}
			if info.Int {
				if t.DType != "I64" {
					return "", fmt.Errorf("tensor %q: dtype %s, want I64", info.Name, t.DType)
				}
				for k := 0; k+8 <= len(t.Data); k += 8 {
					if v := int64(le.LittleEndian.Uint64(t.Data[k:])); v < 0 {
						return "", fmt.Errorf("tensor %q: element %d is %d, want a count ≥ 0", info.Name, k/8, v)
					}
				}
				continue
			}
			if dtype == "" {
				dtype = t.DType
			}
			if t.DType != dtype {
				return "", fmt.Errorf("tensor %q: dtype %s, the other weights are %s", info.Name, t.DType, dtype)
			}
			check := finite
			if strings.HasSuffix(info.Name, ".running_var") {
				check = nonNegative
			}
			if err := scanFloats(t, check); err != nil {
				return "", err
			}
		}
	}
	for _, t := range f.Tensors {
		for _, kind := range []string{"dense", "conv", "bn"} {
			var i int
			var rest string
			if n, _ := fmt.Sscanf(t.Name, kind+".%d.%s", &i, &rest); n == 2 && (i < 0 || i >= count[kind]) {
				return "", fmt.Errorf("tensor %q: the architecture %s has %d %s layers", t.Name, sp, count[kind], kind)
			}
		}
	}
	return dtype, nil
}

// checkOptimizerState checks the optim.* tensors: known names, one value
// per parameter in the weights' dtype, finite, second moments ≥ 0.
func checkOptimizerState(f *safetensors.File, params int, dtype string) error {
	for i := range f.Tensors {
		t := &f.Tensors[i]
		name, ok := strings.CutPrefix(t.Name, "optim.")
		if !ok {
			continue
		}
		check := finite
		switch name {
		case "momentum_buffer", "exp_avg":
		case "exp_avg_sq", "square_avg": // running means of squares
			check = nonNegative
		default:
			return fmt.Errorf("tensor %q: no optimizer keeps such a buffer", t.Name)
		}
		if len(t.Shape) != 1 || t.Shape[0] != params {
			return fmt.Errorf("tensor %q: shape %v, want [%d] (one value per parameter)", t.Name, t.Shape, params)
		}
		if t.DType != dtype {
			return fmt.Errorf("tensor %q: dtype %s, the weights are %s", t.Name, t.DType, dtype)
		}
		if err := scanFloats(t, check); err != nil {
			return err
		}
	}
	return nil
}

// check reports progress no run could have reached.
func (c progressJSON) check() error {
	switch {
	case c.Epoch < 0 || c.Batch < 0 || c.Step < 0 || c.BadEpochs < 0:
		return fmt.Errorf("negative count in %+v", c)
	case c.BestEpoch < 0 || c.BestEpoch > c.Epoch:
		return fmt.Errorf("best epoch %d outside [0, %d]", c.BestEpoch, c.Epoch)
	case c.BestValLoss != nil && (math.IsNaN(*c.BestValLoss) || math.IsInf(*c.BestValLoss, 0)):
		return fmt.Errorf("best validation loss %v", *c.BestValLoss)
	case c.Sums != nil && c.Batch == 0:
		return fmt.Errorf("epoch sums at an epoch's start (batch 0)")
	}
	if c.Sums != nil {
		s, err := c.Sums.sums()
		if err != nil {
			return err
		}
		return parallel.CheckSums(s)
	}
	return nil
}

// decodeVector decodes a one-dimensional, finite F32 or F64 tensor of n
// values (what names n, for the message).
func decodeVector(t *safetensors.Tensor, n int, what string) ([]float64, error) {
	if len(t.Shape) != 1 || t.Shape[0] != n {
		return nil, fmt.Errorf("tensor %q: shape %v, want [%d] (%s)", t.Name, t.Shape, n, what)
	}
	v := make([]float64, n)
	if err := safetensors.Decode(v, t.DType, t.Data); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	for i, x := range v {
		if err := finite(x); err != nil {
			return nil, fmt.Errorf("tensor %q: element %d %v", t.Name, i, err)
		}
	}
	return v, nil
}

func finite(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("is %v", v)
	}
	return nil
}

func nonNegative(v float64) error {
	if !(v >= 0) || math.IsInf(v, 0) {
		return fmt.Errorf("is %v, want a finite value ≥ 0", v)
	}
	return nil
}

// scanFloats applies check to every element of an F32 or F64 tensor in
// place, without decoding it into a new slice.
func scanFloats(t *safetensors.Tensor, check func(float64) error) error {
	size := map[string]int{"F32": 4, "F64": 8}[t.DType]
	if size == 0 {
		return fmt.Errorf("tensor %q: dtype %s is not supported (want F32 or F64)", t.Name, t.DType)
	}
	for i := 0; i+size <= len(t.Data); i += size {
		var v float64
		if size == 4 {
			v = float64(math.Float32frombits(le.LittleEndian.Uint32(t.Data[i:])))
		} else {
			v = math.Float64frombits(le.LittleEndian.Uint64(t.Data[i:]))
		}
		if err := check(v); err != nil {
			return fmt.Errorf("tensor %q: element %d %v", t.Name, i/size, err)
		}
	}
	return nil
}

// checkTransformListed checks the transform's tensors against
// MetaTransform, in a file that has it: a model trained on scaled
// features and given raw ones predicts confidently and wrongly, so a
// missing data.scale must not pass for a model without a transform.
func checkTransformListed(f *safetensors.File) error {
	s, ok := f.Metadata[MetaTransform]
	if !ok {
		return nil
	}
	var listed []string
	if err := json.Unmarshal([]byte(s), &listed); err != nil {
		return fmt.Errorf("metadata %q: %v", MetaTransform, err)
	}
	for _, name := range []string{"data.scale", "data.shift"} {
		switch has, want := f.Tensor(name) != nil, slices.Contains(listed, name); {
		case want && !has:
			return fmt.Errorf("tensor %q: %w (metadata %q says the feature transform has it)", name, safetensors.ErrNoTensor, MetaTransform)
		case has && !want:
			return fmt.Errorf("tensor %q: metadata %q says the feature transform has no such tensor", name, MetaTransform)
		}
	}
	for _, name := range listed {
		if name != "data.scale" && name != "data.shift" {
			return fmt.Errorf("metadata %q: %s is not a transform tensor (want data.scale, data.shift)", MetaTransform, data.Quote(name))
		}
	}
	return nil
}
