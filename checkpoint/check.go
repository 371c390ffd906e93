package checkpoint

import (
	le "encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/parallel"
)

// DType is the element type of a checkpoint's weights, by its safetensors
// name.
type DType string

// The element types of weights a checkpoint holds: float32 and float64.
const (
	F32 DType = "F32"
	F64 DType = "F64"
)

// Check checks everything f says, as Decode does, without building the
// model, and returns the element type of its weights: F32 or F64. To
// choose T for Decode, DecodeHeader tells the element type without
// reading the tensors' values.
func Check(f *safetensors.File) (DType, error) {
	h, _, err := check(f)
	if err != nil {
		return "", err
	}
	return h.DType, nil
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

// check checks everything f says, its header (DecodeHeader) and then
// every value of its tensors in one pass (scan), and returns the header
// and the feature transform.
func check(f *safetensors.File) (*Header, data.Transform, error) {
	h, err := DecodeHeader(f)
	if err != nil {
		return nil, data.Transform{}, err
	}
	tf, err := h.scan(f)
	if err != nil {
		return nil, data.Transform{}, err
	}
	return h, tf, nil
}

// scan checks the values of f's tensors, whose names, shapes and dtypes
// DecodeHeader checked: the weights and running means finite, running
// variances and optimizer second moments finite and ≥ 0, counts ≥ 0. It
// decodes the feature transform, the one tensor data it keeps.
func (h *Header) scan(f *safetensors.File) (data.Transform, error) {
	var tf data.Transform
	if err := scanWeights(f, h.Spec); err != nil {
		return tf, err
	}
	for name, dst := range map[string]*[]float64{"data.scale": &tf.Scale, "data.shift": &tf.Shift} {
		if t := f.Tensor(name); t != nil {
			var err error
			if *dst, err = decodeVector(t, h.Spec.Inputs, "the model's inputs"); err != nil {
				return tf, err
			}
		}
	}
	return tf, scanOptimizerState(f)
}

// checkWeights checks every tensor the spec's layout names (dense and
// conv weights and biases, batch norm's weight, bias and running
// statistics) by its name, shape and dtype, and returns the weights'
// common dtype. num_batches_tracked is I64, as PyTorch keeps it.
func checkWeights(f *safetensors.File, sp model.Spec) (DType, error) {
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
				continue
			}
			if dtype == "" {
				dtype = t.DType
			}
			if t.DType != dtype {
				return "", fmt.Errorf("tensor %q: dtype %s, the other weights are %s", info.Name, t.DType, dtype)
			}
			if err := floatDType(t); err != nil {
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
	return DType(dtype), nil
}

// scanWeights checks the values of the tensors checkWeights checked:
// finite, running variances ≥ 0, num_batches_tracked a count ≥ 0. It
// reads them where they lie, without decoding them into new slices.
func scanWeights(f *safetensors.File, sp model.Spec) error {
	layout, _ := sp.Layout() // checked by checkWeights
	for _, l := range layout.Layers {
		for _, info := range slices.Concat(l.Params, l.Buffers) {
			t := f.Tensor(info.Name)
			if info.Int {
				for k := 0; k+8 <= len(t.Data); k += 8 {
					if v := int64(le.LittleEndian.Uint64(t.Data[k:])); v < 0 {
						return fmt.Errorf("tensor %q: element %d is %d, want a count ≥ 0", info.Name, k/8, v)
					}
				}
				continue
			}
			check := finite
			if strings.HasSuffix(info.Name, ".running_var") {
				check = nonNegative
			}
			if err := scanFloats(t, check); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOptimizerState checks the optim.* tensors by name, shape and
// dtype: known names, one value per parameter in the weights' dtype.
func checkOptimizerState(f *safetensors.File, params int, dtype DType) error {
	for i := range f.Tensors {
		t := &f.Tensors[i]
		name, ok := strings.CutPrefix(t.Name, "optim.")
		if !ok {
			continue
		}
		if optimizerCheck(name) == nil {
			return fmt.Errorf("tensor %q: no optimizer keeps such a buffer", t.Name)
		}
		if len(t.Shape) != 1 || t.Shape[0] != params {
			return fmt.Errorf("tensor %q: shape %v, want [%d] (one value per parameter)", t.Name, t.Shape, params)
		}
		if t.DType != string(dtype) {
			return fmt.Errorf("tensor %q: dtype %s, the weights are %s", t.Name, t.DType, dtype)
		}
	}
	return nil
}

// scanOptimizerState checks the values of the optim.* tensors
// checkOptimizerState checked: finite, second moments ≥ 0.
func scanOptimizerState(f *safetensors.File) error {
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if name, ok := strings.CutPrefix(t.Name, "optim."); ok {
			if err := scanFloats(t, optimizerCheck(name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// optimizerCheck is the check of each value of the optimizer's state
// buffer name, or nil when no optimizer keeps such a buffer.
func optimizerCheck(name string) func(float64) error {
	switch name {
	case "momentum_buffer", "exp_avg":
		return finite
	case "exp_avg_sq", "square_avg": // running means of squares
		return nonNegative
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

// floatDType refuses a tensor neither F32 nor F64.
func floatDType(t *safetensors.Tensor) error {
	if t.DType != string(F32) && t.DType != string(F64) {
		return fmt.Errorf("tensor %q: dtype %s is not supported (want F32 or F64)", t.Name, t.DType)
	}
	return nil
}

// scanFloats applies check to every element of an F32 or F64 tensor in
// place, without decoding it into a new slice.
func scanFloats(t *safetensors.Tensor, check func(float64) error) error {
	if err := floatDType(t); err != nil {
		return err
	}
	size := map[string]int{"F32": 4, "F64": 8}[t.DType]
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
