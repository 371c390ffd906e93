package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
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

// autoFloat is a float flag whose value -1 means "chosen from the data"
// (-test): -h describes the default in words instead of printing -1.
type autoFloat struct{ p *float64 }

func (a autoFloat) String() string {
	if a.p == nil || *a.p == -1 {
		return ""
	}
	return strconv.FormatFloat(*a.p, 'g', -1, 64)
}

func (a autoFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want a number, got %q", s)
	}
	*a.p = v
	return nil
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
	Download  bool    `json:"download"`
	Label     string  `json:"label"`
	Task      string  `json:"task"`
	CSVHeader bool    `json:"csv-header"`
	CSVSkip   int     `json:"csv-skip"`
	CSVDelim  string  `json:"csv-delim"`
	CSVMaxMiB int     `json:"csv-max-mib,omitempty"` // 0 (configs saved before it): data.DefaultMaxTableBytes
	Test      float64 `json:"test"`
	Val       float64 `json:"val"`
	ValOnTest bool    `json:"val-on-test"`
	Normalize string  `json:"normalize"`
	Shuffle   bool    `json:"shuffle"`
	Channels  int     `json:"channels"`
	Resize    string  `json:"resize"`
	SkipBad   bool    `json:"skip-bad"`
	Augment   string  `json:"augment"`

	// A CSV table's preprocessing (data.PrepOptions), fitted on the
	// training split and stored in the checkpoint.
	Features         string `json:"features"`
	Drop             string `json:"drop"`
	Categorical      string `json:"categorical"`
	NA               string `json:"na"`
	Impute           string `json:"impute"`
	ImputeIndicators bool   `json:"impute-indicators"`
	TargetScale      string `json:"target-scale"`

	Arch       string  `json:"arch"`
	Dropout    float64 `json:"dropout"`
	WeightInit string  `json:"weight-init"`
	Init       string  `json:"init"`
	Loss       string  `json:"loss"`
	DType      string  `json:"dtype"`

	Optimizer   string   `json:"optimizer"`
	LR          optFloat `json:"lr"`
	Momentum    optFloat `json:"momentum"`
	Nesterov    bool     `json:"nesterov"`
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

	Out       string `json:"out"`
	Overwrite bool   `json:"overwrite"`
	Metrics   string `json:"metrics"`
	Plot      string `json:"plot"`
	JSON      bool   `json:"json"`
	Quiet     bool   `json:"quiet"`
	Monitor   bool   `json:"monitor"`

	// given names the settings this command gave (flags and -config
	// keys), for warnings about ones the run will not use.
	given map[string]bool
	// configPath and resumePath are -config and -resume, the files the
	// run reads besides the data and -init (samefile.go).
	configPath, resumePath string
}

// ignored lists, as warnings, the settings given that this run will not
// use.
func (c *Config) ignored() []string {
	var w []string
	if k, _, _ := strings.Cut(c.Data, ":"); k != "csv" {
		var csv []string
		for _, f := range []string{"label", "csv-header", "csv-skip", "csv-delim", "csv-max-mib", "features", "drop", "categorical", "na", "impute", "impute-indicators", "target-scale"} {
			if c.given[f] {
				csv = append(csv, "-"+f)
			}
		}
		if len(csv) > 0 {
			w = append(w, fmt.Sprintf("%s ignored: CSV options apply to csv: data, not %s", strings.Join(csv, ", "), c.Data))
		}
	}
	if k, _, _ := strings.Cut(c.Data, ":"); c.Download && k != "mnist" && k != "fashion-mnist" {
		w = append(w, fmt.Sprintf("-download ignored: it fetches MNIST and Fashion-MNIST, not %s", c.Data))
	}
	w = append(w, c.folderIgnored()...)
	if c.ValOnTest && c.given["val"] {
		w = append(w, "-val ignored: -val-on-test reports the test split instead of a validation split")
	}
	if c.Init != "" && c.given["weight-init"] {
		w = append(w, fmt.Sprintf("-weight-init ignored: the weights come from -init %s", c.Init))
	}
	return w
}

func defaultConfig() Config {
	return Config{
		Data: "digits", CSVHeader: true, CSVDelim: ",", CSVMaxMiB: data.DefaultMaxTableBytes >> 20, Test: -1, Val: 0.1, Normalize: "none", Shuffle: true,
		NA: "NA,NaN,?", Impute: "error", TargetScale: "zscore",
		WeightInit: "auto", DType: "float32", Optimizer: "adam", Schedule: "constant",
		Epochs: 30, Batch: 64, Accum: 1, Seed: 1, Out: "ptrain.safetensors",
	}
}

// datasetDefaults sets the defaults that depend on the dataset, for the
// settings the command did not give (set): MNIST and Fashion-MNIST train
// with a cosine schedule, which takes the default MLP from 97.9-98.0% to
// 98.5% test accuracy on MNIST in the same 30 epochs, at the same cost per
// step (bench/README, "Defaults"). A CSV table's features are
// standardised (-normalize zscore) unless the command says otherwise: a
// table's columns come in their own units (square feet beside a count of
// rooms), and used as given the largest drowns the rest (#21: a houses
// table at R² −1.46 unscaled, 0.99 standardised), as scikit-learn's
// pipelines put a StandardScaler first. Images keep their [0, 1] scaling.
// Only a new run gets these defaults: a resumed one keeps its recorded
// settings ("none", or "" from before the field, for an unscaled run).
func datasetDefaults(c *Config, set map[string]bool) {
	k, _, _ := strings.Cut(c.Data, ":")
	if (k == "mnist" || k == "fashion-mnist") && !set["schedule"] {
		c.Schedule = "cosine"
	}
	if k == "csv" && !set["normalize"] {
		c.Normalize = "zscore"
	}
}

// trainFlags binds every training flag to c.
func trainFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Data, "data", c.Data, "dataset: digits | mnist[:DIR] | fashion-mnist[:DIR] | csv:FILE | folder:DIR | synthetic:xor|spirals|blobs|regression[:N]; without DIR, $PTRAIN_DATA/mnist or $PTRAIN_DATA/fashion-mnist, else (Fashion-MNIST) Debian's /usr/share/datasets/fashion-mnist if installed, else ptrain/mnist or ptrain/fashion-mnist in the user cache directory (~/.cache); folder:DIR is a folder of class folders of images, as torchvision's ImageFolder (with train/ and test/, and optionally val/, those are the splits); see -download")
	fs.BoolVar(&c.Download, "download", c.Download, "-data mnist or fashion-mnist: download the files missing from the data directory first, from the dataset's mirror, SHA-256 verified (an interrupted download continues)")
	fs.StringVar(&c.Label, "label", c.Label, "CSV label column: header name or 0-based index, negative from the end (default: last); several, comma-separated, for regression")
	fs.StringVar(&c.Task, "task", c.Task, "CSV task: classification or regression (default classification)")
	fs.BoolVar(&c.CSVHeader, "csv-header", c.CSVHeader, "the CSV's first line (after -csv-skip) names the columns")
	fs.IntVar(&c.CSVSkip, "csv-skip", c.CSVSkip, "CSV lines to skip first (scikit-learn's tables have 1 metadata line)")
	fs.StringVar(&c.CSVDelim, "csv-delim", c.CSVDelim, "CSV field delimiter (one character; \\t for tab)")
	fs.IntVar(&c.CSVMaxMiB, "csv-max-mib", c.CSVMaxMiB, "bound on the memory of a CSV table's decoded rows, in MiB (8 bytes a value, 4 a class and a line number), checked as the rows are read: a table past it (such as a small .csv.gz that expands to billions of rows) stops with an error rather than exhausting memory")
	fs.Var(autoFloat{&c.Test}, "test", "fraction held out as the test set (seeded, the same for every -seed) when the dataset has none; 0 for none (default 0.2; MNIST and Fashion-MNIST have their own)")
	fs.Float64Var(&c.Val, "val", c.Val, "fraction of the training data held out for validation; 0 for none")
	fs.BoolVar(&c.ValOnTest, "val-on-test", c.ValOnTest, "report the test split's loss and accuracy after every epoch instead of a validation split's (for time-to-accuracy comparisons; do not tune on it)")
	fs.StringVar(&c.Normalize, "normalize", c.Normalize, "feature preprocessing fitted on the training split: none (the features as given), minmax or zscore (default: zscore for csv: tables, none otherwise; image datasets are always scaled to [0,1])")
	folderFlags(fs, c)
	fs.StringVar(&c.Features, "features", c.Features, "CSV feature columns to use, comma-separated header names or 0-based indices (default: all but the label)")
	fs.StringVar(&c.Drop, "drop", c.Drop, "CSV columns to leave out, such as an ID: comma-separated names or 0-based indices")
	fs.StringVar(&c.Categorical, "categorical", c.Categorical, "CSV columns of numeric codes to one-hot encode (columns with text are one-hot encoded anyway; categories are the training split's, sorted; one unseen later is all zeros)")
	fs.StringVar(&c.NA, "na", c.NA, "CSV cells read as missing, comma-separated, besides the empty cell")
	fs.StringVar(&c.Impute, "impute", c.Impute, "missing CSV cells: error (name the column), or fill them with the training split's mean, median, most_frequent value, or zero (a text column's: most_frequent, else all zeros)")
	fs.BoolVar(&c.ImputeIndicators, "impute-indicators", c.ImputeIndicators, "add a 0/1 feature marking the missing cells of every column that has any in the training split")
	fs.StringVar(&c.TargetScale, "target-scale", c.TargetScale, "regression targets: zscore (standardised on the training split for training; eval and predict report the data's units) or none")
	fs.BoolVar(&c.Shuffle, "shuffle", c.Shuffle, "reshuffle the training data every epoch (false keeps the file order)")
	fs.StringVar(&c.Arch, "arch", c.Arch, "model spec: the input (a width, or CxHxW for images: 1x28x28 for MNIST, 1x8x8 for the digits), then '-'-joined layers — a width (dense), conv(OUT,K[,stride=S][,pad=P]), maxpool(K[,stride=S]), avgpool(K[,stride=S]), bn, flatten, gap (global average pooling, CxHxW to C), res(BODY) or res(BODY|SHORTCUT) (a residual block: BODY(x) + x, or BODY(x) + SHORTCUT(x), each a '-'-joined stack; its :ACTIVATION applies after the sum) — each with optional :ACTIVATION and :dropout=P; e.g. 784-256:relu-128:relu-10:softmax, 1x28x28-conv(32,3)-bn:relu-maxpool(2)-flatten-10:softmax or 1x28x28-conv(16,3,pad=1)-bn:relu-res(conv(16,3,pad=1)-bn:relu-conv(16,3,pad=1)-bn):relu-res(conv(32,3,stride=2,pad=1)-bn:relu-conv(32,3,pad=1)-bn|conv(32,1,stride=2)-bn):relu-gap-10:softmax (default for classification: INPUTS-128:relu-CLASSES:softmax, or INPUTS-256:relu-128:relu-CLASSES:softmax from 256 inputs; for regression INPUTS-64:relu-64:relu-OUTPUTS)")
	fs.Float64Var(&c.Dropout, "dropout", c.Dropout, "dropout probability after every hidden dense layer that the spec gives none (in a CNN, write :dropout=P where you want it)")
	fs.StringVar(&c.WeightInit, "weight-init", c.WeightInit, "initialisation of dense and conv weights: auto (He for ReLU, also for a conv or dense layer followed by bn:relu; Xavier otherwise), xavier-uniform, xavier-normal, he-uniform, he-normal, torch (PyTorch's default: U(±1/sqrt(fan_in)), biases too)")
	fs.StringVar(&c.Init, "init", c.Init, "start from the weights in this safetensors file instead of a fresh initialisation: the layout's names, dense.<i>.weight (out, in) and .bias for the i-th dense layer (PyTorch's nn.Linear layout), conv.<i>.* and bn.<i>.* likewise, or a torch.nn.Sequential's positional names (0.weight, 2.weight, …) mapped in order (a mismatch lists the names expected and found); without -arch, the architecture the file records, if any")
	fs.StringVar(&c.Loss, "loss", c.Loss, "loss: mse, bce or crossentropy (default: from the output activation)")
	fs.StringVar(&c.DType, "dtype", c.DType, "element type: float32 or float64")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "sgd, rmsprop, adam or adamw, as torch.optim's; momentum and nesterov are sgd with -momentum 0.9 (and -nesterov)")
	fs.Var(flagValue{&c.LR}, "lr", "learning rate (default: the optimizer's, as PyTorch: 0.01 for the SGD family and RMSprop, 0.001 for Adam)")
	fs.Var(flagValue{&c.Momentum}, "momentum", "momentum μ for sgd and rmsprop (default 0, as PyTorch; 0.9 for -optimizer momentum/nesterov)")
	fs.BoolVar(&c.Nesterov, "nesterov", c.Nesterov, "sgd: Nesterov momentum (PyTorch's nesterov=True; needs -momentum > 0)")
	fs.Var(flagValue{&c.Beta1}, "beta1", "adam, adamw: β₁ (default 0.9)")
	fs.Var(flagValue{&c.Beta2}, "beta2", "adam, adamw: β₂ (default 0.999)")
	fs.Var(flagValue{&c.Eps}, "eps", "rmsprop, adam, adamw: ε added outside the square root (default 1e-8)")
	fs.Var(flagValue{&c.Alpha}, "alpha", "rmsprop: smoothing α (default 0.99)")
	fs.Var(flagValue{&c.WeightDecay}, "weight-decay", "PyTorch's weight_decay λ on every parameter, biases included: λ·p is added to the gradient (after clipping, in the optimizer); for adamw decoupled, p ← p·(1 − lr·λ) (default 0, 0.01 for adamw)")
	fs.Float64Var(&c.L1, "l1", c.L1, "L1 regularisation λ₁, as Keras's kernel_regularizer: λ₁·Σ|w| over the weights only (not the biases) is added to the loss, so λ₁·sign(w) joins the gradient before clipping; train_loss stays the data loss")
	fs.Float64Var(&c.ClipNorm, "clip-norm", c.ClipNorm, "clip the gradient to this global L2 norm (0: off)")
	fs.Float64Var(&c.ClipValue, "clip-value", c.ClipValue, "clamp every gradient element to ±this (0: off)")
	fs.StringVar(&c.Schedule, "schedule", c.Schedule, "learning-rate schedule: constant; step:EVERY:GAMMA (×GAMMA every EVERY epochs); exp:GAMMA (×GAMMA every epoch); cosine[:MIN] (from -lr down to MIN, default 0, updated at every optimizer step along -epochs × steps per epoch); the default is cosine for mnist and fashion-mnist")
	fs.IntVar(&c.Warmup, "warmup", c.Warmup, "linear learning-rate warm-up over this many steps")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "total epochs, at most 100000 (a resumed run continues up to this number)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "mini-batch size")
	fs.IntVar(&c.Accum, "accum", c.Accum, "micro-batches accumulated per optimizer step (effective batch = batch × accum)")
	fs.IntVar(&c.Workers, "workers", c.Workers, "data-parallel worker goroutines (0: one per usable CPU)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed: initialisation, splits, shuffling, dropout")
	fs.IntVar(&c.Patience, "patience", c.Patience, "early stopping: stop after this many epochs without a better validation loss and keep the best weights (0: off; needs -val > 0)")
	fs.BoolVar(&c.MPIOverlap, "mpi-overlap", c.MPIOverlap, "under MPI, all-reduce the last layers' gradients while the first layers are still in backward (same results; slower on one machine, meant for networks)")
	fs.StringVar(&c.Out, "out", c.Out, "checkpoint written after every epoch and at the end (safetensors); left at its default, it does not replace another run's checkpoint (see -overwrite)")
	fs.BoolVar(&c.Overwrite, "overwrite", c.Overwrite, "let a new run with the default -out replace a file there that is not a checkpoint of the same architecture, data and task, and a resumed run replace its recorded -out where that is not the file resumed (a copy was resumed)")
	fs.StringVar(&c.Metrics, "metrics", c.Metrics, "write per-epoch metrics to this file: .csv, or .jsonl (.json, .ndjson) for JSON lines")
	fs.StringVar(&c.Plot, "plot", c.Plot, "plot the loss curves, and for classification the accuracy curves, to this file (.png or .svg)")
	fs.BoolVar(&c.JSON, "json", c.JSON, "machine-readable output: JSON objects on stdout, one a line, each with an \"event\" (epoch, final; see the README); human text on stderr")
	fs.BoolVar(&c.Quiet, "quiet", c.Quiet, "no progress output")
	fs.BoolVar(&c.Monitor, "monitor", c.Monitor, "print a table of every layer's gradient norm, weight norm, update ratio and dead/saturated units after each epoch (warnings are printed either way)")
}

// resumable lists the flags a resumed run may change: how long it runs and
// where its output goes. Everything else is the checkpoint's.
var resumable = map[string]bool{"epochs": true, "out": true, "overwrite": true, "download": true, "metrics": true, "plot": true, "json": true, "quiet": true, "workers": true, "patience": true, "mpi-overlap": true, "monitor": true, "csv-max-mib": true}

// resumableList is resumable for messages: "-csv-max-mib, -download, …
// and -workers", sorted.
func resumableList() string {
	names := slices.Sorted(maps.Keys(resumable))
	for i, n := range names {
		names[i] = "-" + n
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// loadConfigFile reads a JSON config file over c and returns the keys it
// sets. Unknown keys are errors, so that a typo does not silently train
// something else.
func loadConfigFile(path string, c *Config) (map[string]bool, error) {
	b, err := readSmallFile(path, 16<<20)
	if err != nil {
		return nil, fmt.Errorf("-config: %w", err)
	}
	keys, err := loadConfigJSON(path, b, c)
	if err != nil {
		return nil, err
	}
	return keys, nil
}

func loadConfigJSON(path string, b []byte, c *Config) (map[string]bool, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + strings.Count(string(b[:se.Offset]), "\n")
			return nil, fmt.Errorf("config %s: line %d: %v", path, line, err)
		}
		return nil, fmt.Errorf("config %s: %v (keys are the flag names, e.g. \"epochs\", \"lr\")", path, err)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(b, &raw) // it decoded above
	keys := map[string]bool{}
	for k, v := range raw {
		if string(v) != "null" {
			keys[k] = true
		}
	}
	return keys, nil
}

// maxBatch and maxAccum bound -batch and -accum far above any useful value,
// so that a typo is a usage error; buffers are sized by the smaller of the
// batch and the dataset, never by the flag alone.
const (
	maxBatch = 1 << 24
	maxAccum = 1 << 16
	// maxEpochs bounds -epochs, and so the rows of a checkpoint's
	// ptrain.history, which a load decodes whole.
	maxEpochs = 100_000
)

// validate checks what flag parsing cannot.
func (c *Config) validate() error {
	switch {
	case c.Epochs < 0 || c.Epochs > maxEpochs:
		return fmt.Errorf("-epochs %d: must be in [0, %d]", c.Epochs, maxEpochs)
	case c.Batch < 1 || c.Batch > maxBatch:
		return fmt.Errorf("-batch %d: must be in [1, %d]", c.Batch, maxBatch)
	case c.Accum < 1 || c.Accum > maxAccum:
		return fmt.Errorf("-accum %d: must be in [1, %d]", c.Accum, maxAccum)
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
	case !(c.ClipNorm >= 0) || math.IsInf(c.ClipNorm, 0):
		return fmt.Errorf("-clip-norm %v: must be finite and ≥ 0 (0: off)", c.ClipNorm)
	case !(c.ClipValue >= 0) || math.IsInf(c.ClipValue, 0):
		return fmt.Errorf("-clip-value %v: must be finite and ≥ 0 (0: off)", c.ClipValue)
	case !(c.L1 >= 0) || math.IsInf(c.L1, 0):
		return fmt.Errorf("-l1 %v: must be finite and ≥ 0", c.L1)
	case c.Out == "":
		return fmt.Errorf("-out: a checkpoint path is needed")
	case c.CSVSkip < 0:
		return fmt.Errorf("-csv-skip %d: must be ≥ 0", c.CSVSkip)
	case c.CSVMaxMiB < 0 || c.CSVMaxMiB > 1<<30:
		return fmt.Errorf("-csv-max-mib %d: must be in [1, %d] (0: the default, %d)", c.CSVMaxMiB, 1<<30, data.DefaultMaxTableBytes>>20)
	case c.Normalize != "none" && c.Normalize != "minmax" && c.Normalize != "zscore":
		return fmt.Errorf("-normalize %q: want none, minmax or zscore", c.Normalize)
	case !slices.Contains([]string{"error", "mean", "median", "most_frequent", "zero"}, c.Impute):
		return fmt.Errorf("-impute %q: want error, mean, median, most_frequent or zero", c.Impute)
	case c.TargetScale != "zscore" && c.TargetScale != "none":
		return fmt.Errorf("-target-scale %q: want zscore or none", c.TargetScale)
	case c.Patience > 0 && c.Val == 0 && !c.ValOnTest:
		return fmt.Errorf("-patience %d: early stopping watches the validation loss, and -val 0 holds out none (give -val 0.1, say)", c.Patience)
	case c.Metrics != "" && !isJSONLines(c.Metrics) && strings.ToLower(filepath.Ext(c.Metrics)) != ".csv":
		return fmt.Errorf("-metrics %s: want a .csv or .jsonl file (.json and .ndjson are JSON lines too)", c.Metrics)
	case c.Plot != "" && !slices.Contains([]string{".png", ".svg"}, strings.ToLower(filepath.Ext(c.Plot))):
		return fmt.Errorf("-plot %s: want a .png or .svg file", c.Plot)
	}
	if _, err := delimiter(c.CSVDelim); err != nil {
		return err
	}
	if err := checkDataSpec(c.Data); err != nil {
		return err
	}
	if err := c.validateImages(); err != nil {
		return err
	}
	if c.Arch != "" {
		if _, err := model.ParseSpec(c.Arch); err != nil {
			return fmt.Errorf("-arch: %w", err) // the error quotes the spec
		}
	}
	if c.Loss != "" {
		if _, err := model.ParseLoss(c.Loss); err != nil {
			return fmt.Errorf("-loss: %w", err)
		}
	}
	if _, err := model.ParseInit(c.WeightInit); err != nil {
		return fmt.Errorf("-weight-init: %w", err)
	}
	oc, err := optimizerConfig(c)
	if err != nil {
		return err
	}
	sc, err := optim.ParseSchedule(c.Schedule)
	if err != nil {
		return fmt.Errorf("-schedule: %w", err)
	}
	if sc.Kind == optim.Cosine && sc.Min > oc.LR {
		return fmt.Errorf("-schedule %s: the floor %g is above the learning rate %g (-lr): the rate would climb to it instead of decaying", c.Schedule, sc.Min, oc.LR)
	}
	return nil
}

// hyperparameters are the optimizer flags that only some methods use, with
// optim.Method.Uses's names.
func (c *Config) hyperparameters() []struct {
	flag, param string
	set         bool
} {
	return []struct {
		flag, param string
		set         bool
	}{{"momentum", "momentum", c.Momentum.Set}, {"nesterov", "nesterov", c.Nesterov}, {"alpha", "alpha", c.Alpha.Set},
		{"beta1", "beta1", c.Beta1.Set}, {"beta2", "beta2", c.Beta2.Set}, {"eps", "eps", c.Eps.Set}}
}

// optimizerConfig turns the optimizer flags into an optim.Config on top of
// the method's defaults. A hyperparameter the method does not use is an
// error, as in PyTorch, rather than silently ignored.
func optimizerConfig(c *Config) (optim.Config, error) {
	method, err := optim.ParseMethod(c.Optimizer)
	if err != nil {
		return optim.Config{}, fmt.Errorf("-optimizer: %w", err)
	}
	for _, h := range c.hyperparameters() {
		if h.set && !method.Uses(h.param) {
			var users []string
			for _, m := range []optim.Method{optim.SGD, optim.Momentum, optim.Nesterov, optim.RMSprop, optim.Adam, optim.AdamW} {
				if m.Uses(h.param) {
					users = append(users, m.String())
				}
			}
			return optim.Config{}, fmt.Errorf("-%s does not apply to -optimizer %s (it is a hyperparameter of %s)", h.flag, c.Optimizer, strings.Join(users, ", "))
		}
	}
	oc := optim.Defaults(method)
	for _, o := range []struct {
		v   optFloat
		dst *float64
	}{{c.LR, &oc.LR}, {c.Momentum, &oc.Momentum}, {c.Beta1, &oc.Beta1}, {c.Beta2, &oc.Beta2}, {c.Eps, &oc.Eps}, {c.Alpha, &oc.Alpha}, {c.WeightDecay, &oc.WeightDecay}} {
		if o.v.Set {
			*o.dst = o.v.V
		}
	}
	oc.Nesterov = c.Nesterov
	if err := oc.Validate(); err != nil {
		return oc, fmt.Errorf("-optimizer %s: %w", c.Optimizer, err)
	}
	return oc, nil
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
