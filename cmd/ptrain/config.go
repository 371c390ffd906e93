package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// optFloat is a float flag that remembers whether it was given, so that an
// optimizer hyperparameter left out keeps the optimizer's own default. In
// JSON an unset value is null.
type optFloat struct {
	V   float64
	Set bool
}

func (o *optFloat) String() string {
	if o == nil || !o.Set {
		return ""
	}
	return strconv.FormatFloat(o.V, 'g', -1, 64)
}

func (o *optFloat) parse(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want a number, got %q", s)
	}
	o.V, o.Set = v, true
	return nil
}

// flagValue adapts optFloat to flag.Value (whose method is Set).
type flagValue struct{ o *optFloat }

func (f flagValue) String() string     { return f.o.String() }
func (f flagValue) Set(s string) error { return f.o.parse(s) }

func (o optFloat) MarshalJSON() ([]byte, error) {
	if !o.Set {
		return []byte("null"), nil
	}
	return json.Marshal(o.V)
}

func (o *optFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = optFloat{}
		return nil
	}
	o.Set = true
	return json.Unmarshal(b, &o.V)
}

// Config is everything a training run is made of. The JSON names are the
// flag names, so a config file holds any flag; the whole Config is stored
// in every checkpoint, so that a resumed run continues exactly.
type Config struct {
	Data      string  `json:"data"`
	Label     string  `json:"label"`
	Task      string  `json:"task"`
	CSVHeader bool    `json:"csv-header"`
	CSVSkip   int     `json:"csv-skip"`
	CSVDelim  string  `json:"csv-delim"`
	Test      float64 `json:"test"`
	Val       float64 `json:"val"`
	ValOnTest bool    `json:"val-on-test"`
	Normalize string  `json:"normalize"`
	Shuffle   bool    `json:"shuffle"`

	Arch       string  `json:"arch"`
	Dropout    float64 `json:"dropout"`
	WeightInit string  `json:"weight-init"`
	Init       string  `json:"init"`
	Loss       string  `json:"loss"`
	DType      string  `json:"dtype"`

	Optimizer   string   `json:"optimizer"`
	LR          optFloat `json:"lr"`
	Momentum    optFloat `json:"momentum"`
	Beta1       optFloat `json:"beta1"`
	Beta2       optFloat `json:"beta2"`
	Eps         optFloat `json:"eps"`
	Alpha       optFloat `json:"alpha"`
	WeightDecay optFloat `json:"weight-decay"`
	L1          float64  `json:"l1"`
	ClipNorm    float64  `json:"clip-norm"`
	ClipValue   float64  `json:"clip-value"`
	Schedule    string   `json:"schedule"`
	Warmup      int      `json:"warmup"`

	Epochs   int    `json:"epochs"`
	Batch    int    `json:"batch"`
	Accum    int    `json:"accum"`
	Workers  int    `json:"workers"`
	Seed     uint64 `json:"seed"`
	Patience int    `json:"patience"`

	MPIOverlap bool `json:"mpi-overlap"`

	Out     string `json:"out"`
	Metrics string `json:"metrics"`
	Plot    string `json:"plot"`
	JSON    bool   `json:"json"`
	Quiet   bool   `json:"quiet"`
	Monitor bool   `json:"monitor"`
}

func defaultConfig() Config {
	return Config{
		Data: "digits", CSVHeader: true, CSVDelim: ",", Test: -1, Val: 0.1, Normalize: "none", Shuffle: true,
		WeightInit: "auto", DType: "float32", Optimizer: "adam", Schedule: "constant",
		Epochs: 30, Batch: 64, Accum: 1, Seed: 1, Out: "ptrain.safetensors",
	}
}

// trainFlags binds every training flag to c.
func trainFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Data, "data", c.Data, "dataset: digits | mnist[:DIR] | fashion-mnist[:DIR] | csv:FILE | synthetic:xor|spirals|blobs|regression[:N]")
	fs.StringVar(&c.Label, "label", c.Label, "CSV label column: header name or 0-based index, negative from the end (default: last); several, comma-separated, for regression")
	fs.StringVar(&c.Task, "task", c.Task, "CSV task: classification or regression (default classification)")
	fs.BoolVar(&c.CSVHeader, "csv-header", c.CSVHeader, "the CSV's first line (after -csv-skip) names the columns")
	fs.IntVar(&c.CSVSkip, "csv-skip", c.CSVSkip, "CSV lines to skip first (scikit-learn's tables have 1 metadata line)")
	fs.StringVar(&c.CSVDelim, "csv-delim", c.CSVDelim, "CSV field delimiter (one character; \\t for tab)")
	fs.Float64Var(&c.Test, "test", c.Test, "fraction held out as the test set when the dataset has none (default 0.2 for digits and synthetic, 0 for CSV)")
	fs.Float64Var(&c.Val, "val", c.Val, "fraction of the training data held out for validation; 0 for none")
	fs.BoolVar(&c.ValOnTest, "val-on-test", c.ValOnTest, "report the test split's loss and accuracy after every epoch instead of a validation split's (for time-to-accuracy comparisons; do not tune on it)")
	fs.StringVar(&c.Normalize, "normalize", c.Normalize, "feature preprocessing fitted on the training split: none, minmax or zscore (image datasets are always scaled to [0,1])")
	fs.BoolVar(&c.Shuffle, "shuffle", c.Shuffle, "reshuffle the training data every epoch (false keeps the file order)")
	fs.StringVar(&c.Arch, "arch", c.Arch, "model spec, e.g. 784-256:relu-128:relu-10:softmax (default: INPUTS-128:relu-OUTPUTS with softmax for classification)")
	fs.Float64Var(&c.Dropout, "dropout", c.Dropout, "dropout probability after every hidden layer that the spec gives none")
	fs.StringVar(&c.WeightInit, "weight-init", c.WeightInit, "initialisation: auto (He for ReLU, Xavier otherwise), xavier-uniform, xavier-normal, he-uniform, he-normal")
	fs.StringVar(&c.Init, "init", c.Init, "start from the weights in this safetensors file (dense.<i>.weight/bias) instead of a fresh initialisation")
	fs.StringVar(&c.Loss, "loss", c.Loss, "loss: mse, bce or crossentropy (default: from the output activation)")
	fs.StringVar(&c.DType, "dtype", c.DType, "element type: float32 or float64")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "sgd, momentum, nesterov, rmsprop, adam or adamw")
	fs.Var(flagValue{&c.LR}, "lr", "learning rate (default: the optimizer's, as PyTorch: 0.01 for SGD family and RMSprop, 0.001 for Adam)")
	fs.Var(flagValue{&c.Momentum}, "momentum", "momentum μ (default 0.9 for momentum/nesterov, 0 for rmsprop)")
	fs.Var(flagValue{&c.Beta1}, "beta1", "Adam β₁ (default 0.9)")
	fs.Var(flagValue{&c.Beta2}, "beta2", "Adam β₂ (default 0.999)")
	fs.Var(flagValue{&c.Eps}, "eps", "ε added outside the square root (default 1e-8)")
	fs.Var(flagValue{&c.Alpha}, "alpha", "RMSprop smoothing α (default 0.99)")
	fs.Var(flagValue{&c.WeightDecay}, "weight-decay", "L2 penalty (coupled), decoupled for adamw (default 0, 0.01 for adamw)")
	fs.Float64Var(&c.L1, "l1", c.L1, "L1 penalty coefficient")
	fs.Float64Var(&c.ClipNorm, "clip-norm", c.ClipNorm, "clip the gradient to this global L2 norm (0: off)")
	fs.Float64Var(&c.ClipValue, "clip-value", c.ClipValue, "clamp every gradient element to ±this (0: off)")
	fs.StringVar(&c.Schedule, "schedule", c.Schedule, "learning-rate schedule: constant, step:EVERY:GAMMA, exp:GAMMA or cosine[:MIN]")
	fs.IntVar(&c.Warmup, "warmup", c.Warmup, "linear learning-rate warm-up over this many steps")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "total epochs (a resumed run continues up to this number)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "mini-batch size")
	fs.IntVar(&c.Accum, "accum", c.Accum, "micro-batches accumulated per optimizer step (effective batch = batch × accum)")
	fs.IntVar(&c.Workers, "workers", c.Workers, "data-parallel worker goroutines (0: one per usable CPU)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed: initialisation, splits, shuffling, dropout")
	fs.IntVar(&c.Patience, "patience", c.Patience, "early stopping: stop after this many epochs without a better validation loss and keep the best weights (0: off)")
	fs.BoolVar(&c.MPIOverlap, "mpi-overlap", c.MPIOverlap, "under MPI, all-reduce the last layers' gradients while the first layers are still in backward (same results; slower on one machine, meant for networks)")
	fs.StringVar(&c.Out, "out", c.Out, "checkpoint written after every epoch and at the end (safetensors)")
	fs.StringVar(&c.Metrics, "metrics", c.Metrics, "write per-epoch metrics to this file: .csv, or .jsonl for JSON lines")
	fs.StringVar(&c.Plot, "plot", c.Plot, "plot loss and accuracy curves to this file (.png or .svg)")
	fs.BoolVar(&c.JSON, "json", c.JSON, "machine-readable output: one JSON object per epoch on stdout, human text on stderr")
	fs.BoolVar(&c.Quiet, "quiet", c.Quiet, "no progress output")
	fs.BoolVar(&c.Monitor, "monitor", c.Monitor, "print a table of every layer's gradient norm, weight norm, update ratio and dead/saturated units after each epoch (warnings are printed either way)")
}

// resumable lists the flags a resumed run may change: how long it runs and
// where its output goes. Everything else is the checkpoint's.
var resumable = map[string]bool{"epochs": true, "out": true, "metrics": true, "plot": true, "json": true, "quiet": true, "workers": true, "patience": true, "mpi-overlap": true, "monitor": true}

// loadConfigFile reads a JSON config file over c. Unknown keys are errors,
// so that a typo does not silently train something else.
func loadConfigFile(path string, c *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + strings.Count(string(b[:se.Offset]), "\n")
			return fmt.Errorf("config %s: line %d: %v", path, line, err)
		}
		return fmt.Errorf("config %s: %v (keys are the flag names, e.g. \"epochs\", \"lr\")", path, err)
	}
	return nil
}

// validate checks what flag parsing cannot.
func (c *Config) validate() error {
	switch {
	case c.Epochs < 0:
		return fmt.Errorf("-epochs %d: must be ≥ 0", c.Epochs)
	case c.Batch < 1:
		return fmt.Errorf("-batch %d: must be ≥ 1", c.Batch)
	case c.Accum < 1:
		return fmt.Errorf("-accum %d: must be ≥ 1", c.Accum)
	case c.Workers < 0 || c.Workers > 4096:
		return fmt.Errorf("-workers %d: must be in [0, 4096]", c.Workers)
	case !(c.Val >= 0 && c.Val < 1):
		return fmt.Errorf("-val %g: must be in [0, 1)", c.Val)
	case c.Test != -1 && !(c.Test >= 0 && c.Test < 1):
		return fmt.Errorf("-test %g: must be in [0, 1)", c.Test)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("-dropout %g: must be in [0, 1)", c.Dropout)
	case c.DType != "float32" && c.DType != "float64":
		return fmt.Errorf("-dtype %q: want float32 or float64", c.DType)
	case c.Patience < 0:
		return fmt.Errorf("-patience %d: must be ≥ 0", c.Patience)
	case c.Warmup < 0:
		return fmt.Errorf("-warmup %d: must be ≥ 0", c.Warmup)
	case c.Task != "" && c.Task != "classification" && c.Task != "regression":
		return fmt.Errorf("-task %q: want classification or regression", c.Task)
	case !(c.ClipNorm >= 0) || !(c.ClipValue >= 0) || !(c.L1 >= 0):
		return fmt.Errorf("-clip-norm, -clip-value and -l1 must be ≥ 0")
	case c.Out == "":
		return fmt.Errorf("-out: a checkpoint path is needed")
	}
	if _, err := delimiter(c.CSVDelim); err != nil {
		return err
	}
	return nil
}

func delimiter(s string) (rune, error) {
	if s == `\t` || s == "tab" {
		return '\t', nil
	}
	r := []rune(s)
	if len(r) != 1 || r[0] == '"' || r[0] == '\n' || r[0] == '\r' {
		return 0, fmt.Errorf("-csv-delim %q: want one character other than a quote or newline", s)
	}
	return r[0], nil
}
