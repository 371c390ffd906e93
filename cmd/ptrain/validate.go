package main

import (
	le "encoding/binary" // "binary" is the tests' binary path
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
)

// decodeCheckpoint decodes and checks everything f says against the model
// its ptrain.arch describes: weights (shape, dtype, finiteness), classes or
// regression targets against the outputs, the feature transform against
// the inputs, the optimizer state (length, dtype, finiteness, second
// moments ≥ 0), the progress and the stored config. Every load path goes
// through it (info, eval, predict, -resume, -init), and so does every
// checkpoint before it is written, so ptrain never writes what it would
// refuse to read.
//
// strict demands a whole ptrain checkpoint (config, progress and task);
// otherwise only what is present is checked: info and -init accept the
// weights-only files model.SaveFile writes.
func decodeCheckpoint(path string, f *safetensors.File, strict bool) (*checkpoint, error) {
	ck := &checkpoint{path: path, file: f, cfg: defaultConfig()}
	if err := ck.decode(strict); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ck, nil
}

func (ck *checkpoint) decode(strict bool) error {
	f := ck.file
	meta := func(key string, v any) (bool, error) {
		s, ok := f.Metadata[key]
		if !ok {
			if strict {
				return false, fmt.Errorf("not a ptrain checkpoint (no %q metadata)", key)
			}
			return false, nil
		}
		if err := json.Unmarshal([]byte(s), v); err != nil {
			return false, fmt.Errorf("metadata %q: %v", key, err)
		}
		return true, nil
	}
	arch, ok := f.Metadata[model.MetaArch]
	if !ok {
		return fmt.Errorf("not a ptrain checkpoint (no %q metadata)", model.MetaArch)
	}
	sp, err := model.ParseSpec(arch)
	if err != nil {
		return fmt.Errorf("metadata %q: %w", model.MetaArch, err)
	}
	ck.spec = sp
	if ck.dtype, err = checkWeights(f, sp); err != nil {
		return err
	}
	hasConfig, err := meta(metaConfig, &ck.cfg)
	if err != nil {
		return err
	}
	if hasConfig {
		if err := checkStoredConfig(&ck.cfg, ck.dtype, sp); err != nil {
			return fmt.Errorf("metadata %q: %w", metaConfig, err)
		}
	}
	hasProgress, err := meta(metaProgress, &ck.progress)
	if err != nil {
		return err
	}
	if hasProgress {
		if err := ck.progress.check(); err != nil {
			return fmt.Errorf("metadata %q: %w", metaProgress, err)
		}
	}
	if err := ck.decodeTask(strict, meta); err != nil {
		return err
	}
	if s, ok := f.Metadata[metaHistory]; ok { // older checkpoints have none
		if err := json.Unmarshal([]byte(s), &ck.history); err != nil {
			return fmt.Errorf("metadata %q: %v", metaHistory, err)
		}
	}
	for i, row := range ck.history {
		if row.Epoch < 1 || (i > 0 && row.Epoch <= ck.history[i-1].Epoch) || (hasProgress && row.Epoch > ck.progress.Epoch) {
			return fmt.Errorf("metadata %q: row %d is for epoch %d: want increasing epochs from 1 to %d", metaHistory, i+1, row.Epoch, ck.progress.Epoch)
		}
	}
	for name, dst := range map[string]*[]float64{"data.scale": &ck.transform.Scale, "data.shift": &ck.transform.Shift} {
		if t := f.Tensor(name); t != nil {
			if *dst, err = decodeVector(t, sp.Inputs, "the model's inputs"); err != nil {
				return err
			}
		}
	}
	if ck.transform.Scale == nil && ck.transform.Shift != nil {
		return fmt.Errorf(`tensor "data.shift" without "data.scale"`)
	}
	return checkOptimizerState(f, sp.NumParams(), ck.dtype)
}

// decodeTask reads the task and the class names or target count, which
// must match the model's outputs.
func (ck *checkpoint) decodeTask(strict bool, meta func(string, any) (bool, error)) error {
	out := ck.spec.Outputs()
	task, ok := ck.file.Metadata[metaTask]
	switch {
	case !ok && strict:
		return fmt.Errorf("not a ptrain checkpoint (no %q metadata)", metaTask)
	case !ok:
		return nil
	case task != "classification" && task != "regression":
		return fmt.Errorf("metadata %q is %q, want classification or regression", metaTask, task)
	}
	ck.task = task
	if task == "regression" {
		s, ok := ck.file.Metadata[metaOutputs]
		if n, err := strconv.Atoi(s); ok && (err != nil || n != out) {
			return fmt.Errorf("metadata %q is %q: the model has %d outputs", metaOutputs, s, out)
		}
		return nil
	}
	if _, err := meta(metaClasses, &ck.classes); err != nil {
		return err
	}
	if ck.classes == nil && !strict {
		return nil
	}
	want := out
	if out == 1 {
		want = 2 // one sigmoid output for two classes
	}
	if len(ck.classes) != want {
		return fmt.Errorf("metadata %q names %d classes, the model's %d outputs need %d", metaClasses, len(ck.classes), out, want)
	}
	seen := make(map[string]bool, len(ck.classes))
	for _, c := range ck.classes {
		if c == "" || seen[c] {
			return fmt.Errorf("metadata %q: class name %q is empty or repeated", metaClasses, c)
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

// checkStoredConfig checks a checkpoint's config as the flags of a new
// run are checked, and against the weights' dtype and the architecture.
func checkStoredConfig(c *Config, dtype string, sp model.Spec) error {
	if err := c.validate(); err != nil {
		return err
	}
	if want := map[string]string{"float32": "F32", "float64": "F64"}[c.DType]; want != dtype {
		return fmt.Errorf("dtype %s, but the weights are %s", c.DType, dtype)
	}
	if _, err := optimizerConfig(c); err != nil {
		return err
	}
	if _, err := optim.ParseSchedule(c.Schedule, c.Epochs); err != nil {
		return fmt.Errorf("-schedule: %w", err)
	}
	if c.Loss != "" {
		loss, err := model.ParseLoss(c.Loss)
		if err == nil {
			err = model.CheckLoss(loss, sp)
		}
		if err != nil {
			return fmt.Errorf("-loss: %w", err)
		}
	}
	switch c.Normalize {
	case "", "none", "minmax", "zscore":
	default:
		return fmt.Errorf("-normalize %q: want none, minmax or zscore", c.Normalize)
	}
	return nil
}

// check reports progress no run could have reached.
func (c ckptProgress) check() error {
	switch {
	case c.Epoch < 0 || c.Batch < 0 || c.Step < 0 || c.BadEpochs < 0:
		return fmt.Errorf("negative count in %+v", c)
	case c.BestEpoch < 0 || c.BestEpoch > c.Epoch:
		return fmt.Errorf("best epoch %d outside [0, %d]", c.BestEpoch, c.Epoch)
	case c.BestValLoss != nil && (math.IsNaN(*c.BestValLoss) || math.IsInf(*c.BestValLoss, 0)):
		return fmt.Errorf("best validation loss %v", *c.BestValLoss)
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
