package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	ckpt "github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
	"github.com/ptrain/ptrain/parallel/health"
)

// A checkpoint is package checkpoint's file (see its doc): the model, the
// optimizer and its state, task, classes, feature transform and progress.
// The command adds its own metadata: the full Config (every flag), the
// run's history and provenance. Everything needed to resume exactly, or to
// evaluate and predict without the original flags; a checkpoint without
// ptrain.config (saved from Go code) is accepted too, and then the flags
// say what the file does not.
const (
	metaConfig      = "ptrain.config"
	metaProgress    = ckpt.MetaProgress
	metaClasses     = ckpt.MetaClasses
	metaTask        = ckpt.MetaTask
	metaOutputs     = ckpt.MetaTargets
	metaVersion     = "ptrain.version"
	metaCreated     = "ptrain.created"
	metaBackend     = "ptrain.blas"
	metaHistory     = "ptrain.history"      // every epoch's figures, as -metrics has them
	metaTargetNames = "ptrain.target_names" // a regression model's outputs by the data's label columns, JSON
	// metaPixels is "unit" for an image model whose raw inputs were float
	// pixels in [0, 1] (a folder with 16-bit images); absent, they were
	// 8-bit values. The transform cannot tell once -normalize fitted one.
	metaPixels = "ptrain.pixels"
)

// checkpoint is a checkpoint file as the command reads it: what package
// checkpoint decoded and checked, its header (the architecture, the
// weights' element type, task, classes, optimizer settings, progress,
// preprocessing and provenance) and the checkpoint built with the element
// type the header says, plus the command's own metadata.
type checkpoint struct {
	path string
	file *safetensors.File
	*ckpt.Header
	// f32 or f64, as Header.DType says, is the checkpoint decoded; both
	// are nil in the one saveCheckpoint checks before it writes.
	f32       *ckpt.Checkpoint[float32]
	f64       *ckpt.Checkpoint[float64]
	cfg       Config     // the defaults when hasConfig is false
	hasConfig bool       // the file has ptrain.config: the ptrain command wrote it
	history   []epochRow // nil in checkpoints older than ptrain.history
	targets   []string   // a regression model's output names; nil when not recorded
	unitPix   bool       // metaPixels: trained on float pixels in [0, 1]
}

// saveCheckpoint writes the model, optimizer and run state to path
// atomically: a crash mid-write leaves the previous checkpoint intact.
// Everything is checked as a load checks it first.
func saveCheckpoint[T num.Float](path string, m *model.Model[T], opt *optim.Optimizer[T], cfg Config, prog parallel.Progress, sp *splits, history []epochRow, watch *health.Watch) error {
	ds, tf := sp.train, sp.transform
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	cfg.Data = absData(cfg.Data)
	if history == nil {
		history = []epochRow{}
	}
	c := &ckpt.Checkpoint[T]{Model: m, Optimizer: opt, Task: new(ds.Task), Transform: tf, Preprocess: sp.prep, Progress: prog,
		Split: sp.split, BatchSize: cfg.Batch, InputRange: sp.inputRange, Meta: map[string]string{
			metaConfig:  js(cfg),
			metaHistory: js(history),
			metaVersion: version,
			metaCreated: time.Now().UTC().Format(time.RFC3339),
			metaBackend: num.Backend() + ", " + runtime.Version(),
			metaHealth:  healthState(watch),
		}}
	if ds.Task == data.Classification {
		c.Classes = ds.Classes
	}
	if ds.Task == data.Regression && len(ds.LabelColumns) == m.Spec.Outputs() {
		c.Meta[metaTargetNames] = js(ds.LabelColumns) // a regression's label columns are its targets
	}
	if sp.shape != nil && ds.U8 == nil { // a folder read as float pixels
		c.Meta[metaPixels] = "unit"
	}
	f, err := ckpt.Encode(c) // package checkpoint's checks
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// The command's own, on the header: without a copy of the model.
	h, err := ckpt.DecodeHeader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	ck := &checkpoint{path: path, file: f, cfg: defaultConfig(), Header: h}
	if err = ck.parseConfig(); err == nil {
		err = ck.checkOwn()
	}
	if err != nil {
		return fmt.Errorf("%s: refusing to write a checkpoint that could not be read back: %w", path, err)
	}
	return writeFileAtomic(path, func(w io.Writer) error { return safetensors.Write(w, f.Tensors, f.Metadata) })
}

// readCheckpoint reads a checkpoint and checks all of it (see
// decodeCheckpoint). Every problem is reported with the file's name.
func readCheckpoint(path string) (*checkpoint, error) {
	f, err := readSafetensors(path)
	if err != nil {
		return nil, err
	}
	return decodeCheckpoint(path, f)
}

// readSafetensors reads a safetensors file; an ONNX model given in its
// place (whose first bytes would read as an absurd header length) is
// named as such, as ptrain info names it.
func readSafetensors(path string) (*safetensors.File, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil && looksLikeONNX(path) {
		return nil, fmt.Errorf("%s is an ONNX model, not a ptrain checkpoint (ptrain export writes ONNX from a checkpoint; ptrain info reads either)", path)
	}
	return f, err
}

// decodeCheckpoint checks everything f says — package checkpoint's checks,
// then the stored config and history — and decodes it with the element
// type of its weights, which its header says (ckpt.DecodeHeader), in one
// pass over the tensors (ckpt.Decode). Every load path goes through it (info, eval,
// predict, -resume, -init), and so does every checkpoint before it is
// written, so ptrain never writes what it would refuse to read.
func decodeCheckpoint(path string, f *safetensors.File) (*checkpoint, error) {
	ck := &checkpoint{path: path, file: f, cfg: defaultConfig()}
	if err := ck.decode(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ck, nil
}

func (ck *checkpoint) decode() error {
	f := ck.file
	if err := ck.parseConfig(); err != nil {
		return err
	}
	if ck.hasConfig {
		if err := upgradeOptimizer(f, &ck.cfg); err != nil {
			return err
		}
	}
	h, err := ckpt.DecodeHeader(f)
	if err != nil {
		return err
	}
	ck.Header = h
	if h.DType == ckpt.F64 {
		ck.f64, err = ckpt.Decode[float64](f)
	} else {
		ck.f32, err = ckpt.Decode[float32](f)
	}
	if err != nil {
		return err
	}
	return ck.checkOwn()
}

// parseConfig reads ptrain.config, if the file has one.
func (ck *checkpoint) parseConfig() error {
	s, ok := ck.file.Metadata[metaConfig]
	if !ok {
		return nil
	}
	if len(s) > ckpt.MaxMeta {
		return fmt.Errorf("metadata %q is %d bytes, more than the limit of %d (checkpoint.MaxMeta)", metaConfig, len(s), ckpt.MaxMeta)
	}
	if err := json.Unmarshal([]byte(s), &ck.cfg); err != nil {
		return fmt.Errorf("metadata %q: %v", metaConfig, err)
	}
	if err := checkConfigStrings(&ck.cfg); err != nil {
		return fmt.Errorf("metadata %q: %w", metaConfig, err)
	}
	ck.hasConfig = true
	return nil
}

// maxConfigString bounds a stored flag's value (a path is at most 4096
// bytes on Linux), so that the errors that quote one stay one line. The
// architecture is bounded by checkpoint.MaxMeta, as ptrain.arch is.
const maxConfigString = 4096

// checkConfigStrings refuses a stored config whose string flags are
// longer than maxConfigString.
func checkConfigStrings(c *Config) error {
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Tag.Get("json")
		if f.Kind() == reflect.String && name != "arch" && f.Len() > maxConfigString {
			return fmt.Errorf("-%s is %d bytes, more than the limit of %d", name, f.Len(), maxConfigString)
		}
	}
	return nil
}

// checkOwn checks the command's own metadata, the config and the history,
// against what package checkpoint decoded.
func (ck *checkpoint) checkOwn() error {
	f := ck.file
	if ck.hasConfig {
		if err := checkStoredConfig(&ck.cfg, string(ck.DType), ck.Spec); err != nil {
			return fmt.Errorf("metadata %q: %w", metaConfig, err)
		}
		if oc, _ := optimizerConfig(&ck.cfg); ck.Optimizer != nil && !sameOptimizer(oc, *ck.Optimizer) {
			return fmt.Errorf("metadata %q says %s, %q says %s", ckpt.MetaOptimizer, describeOptimizer(*ck.Optimizer), metaConfig, describeOptimizer(oc))
		}
	}
	if ck.hasConfig {
		if err := ck.checkTransformTensors(); err != nil {
			return err
		}
	}
	switch e := ck.Progress.Epoch; {
	case e > maxEpochs:
		return fmt.Errorf("metadata %q: epoch %d, beyond the limit of %d epochs", metaProgress, e, maxEpochs)
	case ck.hasConfig && e > ck.cfg.Epochs:
		return fmt.Errorf("metadata %q: epoch %d, beyond the run's -epochs %d", metaProgress, e, ck.cfg.Epochs)
	}
	if s, ok := f.Metadata[metaHistory]; ok { // older checkpoints have none
		h, err := decodeHistory(s, ck.Progress.Epoch)
		if err != nil {
			return fmt.Errorf("metadata %q: %w", metaHistory, err)
		}
		ck.history = h
	}
	if err := ck.checkHealth(); err != nil {
		return err
	}
	if s, ok := f.Metadata[metaPixels]; ok {
		if s != "unit" {
			return fmt.Errorf("metadata %q is %s, want \"unit\" or none", metaPixels, data.Quote(s))
		}
		ck.unitPix = true
	}
	if s, ok := f.Metadata[metaTargetNames]; ok {
		if len(s) > ckpt.MaxMeta {
			return fmt.Errorf("metadata %q is %d bytes, more than the limit of %d (checkpoint.MaxMeta)", metaTargetNames, len(s), ckpt.MaxMeta)
		}
		if err := json.Unmarshal([]byte(s), &ck.targets); err != nil || len(ck.targets) != ck.Spec.Outputs() || slices.Contains(ck.targets, "") {
			return fmt.Errorf("metadata %q: want the names of the model's %d outputs", metaTargetNames, ck.Spec.Outputs())
		}
	}
	return nil
}

// checkTransformTensors checks that the file has the transform's tensors
// that its config implies (package checkpoint checks them against the
// list newer files keep, ckpt.MetaTransform): -normalize fits both, and
// the image datasets are scaled. Without them predict would feed the
// model raw features and be confidently wrong.
func (ck *checkpoint) checkTransformTensors() error {
	var need []string
	kind, _, _ := strings.Cut(ck.cfg.Data, ":")
	switch {
	case ck.cfg.Normalize == "minmax" || ck.cfg.Normalize == "zscore":
		need = []string{"data.scale", "data.shift"}
	case kind == "digits" || kind == "mnist" || kind == "fashion-mnist":
		need = []string{"data.scale"}
	}
	for _, name := range need {
		if ck.file.Tensor(name) == nil {
			return fmt.Errorf("tensor %q: %w (the run's -data %s -normalize %s has a feature transform)", name, safetensors.ErrNoTensor, kind, ck.cfg.Normalize)
		}
	}
	return nil
}

// decodeHistory decodes ptrain.history, a JSON array of epoch rows for
// increasing epochs from 1 to epochs, one row at a time: a history of
// more rows than epochs is refused at the first row too many, and the
// rows decoded are never more than the run's epochs.
func decodeHistory(s string, epochs int) ([]epochRow, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("want a JSON array of epoch rows")
	}
	rows := []epochRow{} // not nil: the file has a history
	for i := 0; dec.More(); i++ {
		var row epochRow
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("row %d: %v", i+1, err)
		}
		if row.Epoch < 1 || (i > 0 && row.Epoch <= rows[i-1].Epoch) || row.Epoch > epochs {
			return nil, fmt.Errorf("row %d is for epoch %d: want increasing epochs from 1 to %d (the epochs trained)", i+1, row.Epoch, epochs)
		}
		rows = append(rows, row)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the array")
	}
	return rows, nil
}

// upgradeOptimizer gives a checkpoint written before ptrain.optimizer its
// optimizer's settings, from its config, so that its state loads.
func upgradeOptimizer(f *safetensors.File, cfg *Config) error {
	if _, ok := f.Metadata[ckpt.MetaOptimizer]; ok || !slices.ContainsFunc(f.Tensors, func(t safetensors.Tensor) bool { return strings.HasPrefix(t.Name, "optim.") }) {
		return nil
	}
	oc, err := optimizerConfig(cfg)
	if err != nil {
		return fmt.Errorf("metadata %q: %w", metaConfig, err)
	}
	b, err := json.Marshal(oc)
	if err != nil {
		return fmt.Errorf("metadata %q: %w", metaConfig, err)
	}
	f.Metadata[ckpt.MetaOptimizer] = string(b)
	return nil
}

// decoded is the checkpoint as package checkpoint built it, with element
// type T (the one ck.DType names: the command chooses T by it).
func decoded[T num.Float](ck *checkpoint) (*ckpt.Checkpoint[T], error) {
	// One of the two is T's; the conversions to any only let the compiler
	// compare a type parameter with a type.
	if c, ok := any(ck.f32).(*ckpt.Checkpoint[T]); ok && c != nil {
		return c, nil
	}
	if c, ok := any(ck.f64).(*ckpt.Checkpoint[T]); ok && c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("%s: the weights are %s, not %s", ck.path, ck.DType, num.DType[T]())
}

// transform is the feature transform the model was trained with (tensor
// data, which the header does not hold).
func (ck *checkpoint) transform() data.Transform {
	switch {
	case ck.f32 != nil:
		return ck.f32.Transform
	case ck.f64 != nil:
		return ck.f64.Transform
	}
	return data.Transform{}
}

// loadModel is the checkpoint's model, with element type T.
func loadModel[T num.Float](ck *checkpoint) (*model.Model[T], error) {
	c, err := decoded[T](ck)
	if err != nil {
		return nil, err
	}
	return c.Model, nil
}

// targetNames names the outputs of a regression model: the data's label
// columns as the checkpoint records them, else y0, y1, ….
func (ck *checkpoint) targetNames() []string {
	if ck.targets != nil {
		return ck.targets
	}
	names := make([]string, ck.Spec.Outputs())
	for i := range names {
		names[i] = "y" + strconv.Itoa(i)
	}
	return names
}

// classNames names the outputs of a classification model: the stored
// class names, else their indices.
func (ck *checkpoint) classNames() []string {
	if ck.Classes != nil {
		return ck.Classes
	}
	n := max(ck.Spec.Outputs(), 2) // one sigmoid output for two classes
	names := make([]string, n)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names
}

// isClassifier reports whether the checkpoint's outputs are classes: as
// its task says, or, in a file that does not say, by its output
// activation (softmax or sigmoid).
func (ck *checkpoint) isClassifier() bool {
	if ck.Task != nil {
		return *ck.Task == data.Classification
	}
	act := ck.Spec.Layers[len(ck.Spec.Layers)-1].Act.Kind
	return act == model.Softmax || act == model.Sigmoid
}

// checkTask refuses data of another task than the checkpoint's (a nil
// checkpoint, or one that does not say, takes any).
func (ck *checkpoint) checkTask(ds *data.Dataset) error {
	if ck == nil || ck.Task == nil || *ck.Task == ds.Task {
		return nil
	}
	return errUsage{fmt.Errorf("%s: the model is for %v, the data (%s) is for %v", ck.path, *ck.Task, ds.Name, ds.Task)}
}

// applyTransform gives ds the feature transform the model was trained
// with, after checking that ds has the features it was fitted on.
func (ck *checkpoint) applyTransform(ds *data.Dataset) error {
	if err := ck.checkTransform(ds.Name, ds.Features); err != nil {
		return err
	}
	if tf := ck.transform(); tf.Scale != nil {
		tf.Apply(ds)
	}
	return nil
}

// checkTransform checks that rows of features values, from the input
// name, are what the feature transform was fitted on.
func (ck *checkpoint) checkTransform(name string, features int) error {
	if n := len(ck.transform().Scale); n != 0 && n != features {
		return fmt.Errorf("%s: %d features per row, the model was trained on %d", name, features, n)
	}
	return nil
}

// initFrom loads -init weights from f, read from path: any safetensors
// file with the model's tensor names (dense.<i>.weight (out, in),
// conv.<i>.weight (out, in, kh, kw), bn.<i>.running_mean, …), F32 or F64,
// including one written by another tool. A ptrain file is checked whole
// first (decodeCheckpoint).
func initFrom[T num.Float](m *model.Model[T], path string, f *safetensors.File) (string, error) {
	if _, ok := f.Metadata[model.MetaArch]; ok { // a ptrain file: check all it says
		if _, err := decodeCheckpoint(path, f); err != nil {
			return "", fmt.Errorf("-init: %w", err)
		}
	}
	mapped := false
	if g, ok := fromSequential(f, m.Layout); ok {
		f, mapped = g, true
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
		return "", fmt.Errorf("-init %s: %w; expected the tensors %s; the file has %s (dense.i is the i-th nn.Linear of a PyTorch Sequential, conv.i its i-th nn.Conv2d, bn.i its i-th BatchNorm; a Sequential's positional names, 0.weight, 2.weight, …, are mapped in order when their modules match the layers one for one)",
			path, err, strings.Join(want, ", "), strings.Join(found, ", "))
	}
	return describeInit(path, f, len(m.Params), mapped), nil
}

// startFrom is a run's optimizer and progress: the checkpoint's when
// resuming one (its optimizer, with its state, is the one oc describes;
// a checkpoint of weights alone gets a new one), else new ones.
func startFrom[T num.Float](ck *checkpoint, oc optim.Config, m *model.Model[T]) (*optim.Optimizer[T], parallel.Progress, error) {
	start := parallel.Progress{BestValLoss: math.Inf(1)}
	if ck == nil {
		opt, err := optim.New[T](oc, len(m.Params))
		return opt, start, err
	}
	c, err := decoded[T](ck)
	if err != nil {
		return nil, start, err
	}
	if c.Optimizer == nil {
		opt, err := optim.New[T](oc, len(m.Params))
		return opt, c.Progress, err
	}
	if !sameOptimizer(c.Optimizer.Config(), oc) {
		return nil, start, fmt.Errorf("-resume %s: the checkpoint's optimizer is %s, the run's %s", ck.path, describeOptimizer(c.Optimizer.Config()), describeOptimizer(oc))
	}
	return c.Optimizer, c.Progress, nil
}
