package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

const evalExamples = `
Examples:
  ptrain eval -model ptrain.safetensors                 # the run's own test split
  ptrain eval -model mnist.safetensors -data mnist:../shared/datasets/mnist -json
  ptrain eval -model iris.safetensors -data csv:other.csv -csv-skip 0 -csv-header
`

// csvFlags are the CSV reading flags that train, eval and predict share.
type csvFlags struct {
	label  string
	header bool
	skip   int
	delim  string
}

// bind declares the flags on fs, with what as the help's subject.
func (o *csvFlags) bind(fs *flag.FlagSet, labelHelp string) {
	fs.StringVar(&o.label, "label", o.label, labelHelp)
	fs.BoolVar(&o.header, "csv-header", o.header, "the CSV's first line (after -csv-skip) names the columns")
	fs.IntVar(&o.skip, "csv-skip", o.skip, "CSV lines to skip first (scikit-learn's tables have 1 metadata line)")
	fs.StringVar(&o.delim, "csv-delim", o.delim, "CSV field delimiter (one character; \\t for tab)")
}

// given reports which flags of fs were set on the command line.
func given(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// cmdEval is "ptrain eval".
func cmdEval(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	path := fs.String("model", "", "checkpoint to evaluate (required)")
	dataSpec := fs.String("data", "", "dataset (default: the one the model was trained on); its test split is used when it has one, and the run's held-out test split when it is the run's own data")
	workers := fs.Int("workers", 0, "worker goroutines (0: one per usable CPU)")
	batch := fs.Int("batch", 256, "evaluation batch size")
	asJSON := fs.Bool("json", false, `print one JSON object ("event": "eval") with the figures`)
	co := csvFlags{header: true, delim: ","}
	co.bind(fs, "CSV label column(s), as for train")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain eval -model CKPT [flags]\n\nEvaluates a checkpoint: for classification loss, accuracy, the confusion matrix and per-class\nprecision and recall; for regression MSE, RMSE, MAE and R².\nThe CSV flags default to the training run's.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), evalExamples)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return errUsage{fmt.Errorf("-model CKPT is required (see ptrain eval -h)")}
	}
	if *batch < 1 || *batch > maxBatch || *workers < 0 || *workers > 4096 {
		return errUsage{fmt.Errorf("-batch %d, -workers %d: want -batch in [1, %d] and -workers in [0, 4096]", *batch, *workers, maxBatch)}
	}
	if *dataSpec != "" {
		if err := checkDataSpec(*dataSpec); err != nil {
			return errUsage{err}
		}
	}
	ck, err := readCheckpoint(*path)
	if err != nil {
		return err
	}
	if !ck.hasConfig && *dataSpec == "" {
		return errUsage{fmt.Errorf("-data: %s has no %q (it was saved from Go code or by Model.SaveFile), so the data it was trained on is unknown: give -data", *path, metaConfig)}
	}
	set := given(fs)
	c := ck.cfg
	c.Task = ck.task
	if set["label"] {
		c.Label = co.label
	}
	if set["csv-header"] {
		c.CSVHeader = co.header
	}
	if set["csv-skip"] {
		c.CSVSkip = co.skip
	}
	if set["csv-delim"] {
		if _, err := delimiter(co.delim); err != nil {
			return errUsage{err}
		}
		c.CSVDelim = co.delim
	}
	ds, split, err := checkpointData(ck, &c, *dataSpec)
	if err != nil {
		return err
	}
	if split == "training" {
		fmt.Fprintf(stderr, "ptrain eval: note: the run held out no test split (-test 0), so these are the %d samples it was trained on, not a test score; give -data with held-out data\n", ds.N)
	}
	if ds.Task == data.Regression {
		var rm regressionMetrics
		if ck.dtype == "F64" {
			rm, err = evaluateRegression[float64](ck, ds)
		} else {
			rm, err = evaluateRegression[float32](ck, ds)
		}
		if err != nil {
			return err
		}
		return rm.print(os.Stdout, ds, split, *asJSON)
	}
	var met parallel.Metrics
	if ck.dtype == "F64" {
		met, err = evaluate[float64](ctx, ck, ds, *workers, *batch)
	} else {
		met, err = evaluate[float32](ctx, ck, ds, *workers, *batch)
	}
	if err != nil {
		return err
	}
	return printMetrics(os.Stdout, ds, split, met, *asJSON)
}

// checkpointData loads the data to evaluate a checkpoint on: spec, or the
// checkpoint's own dataset, read as c says (the checkpoint's config with
// eval's CSV flags), with the checkpoint's classes and transform. Of a
// dataset with a test split, the test split is used; of the run's own data
// without one, the split the run held out. split says which: "test",
// "all" (other data, whole) or "training" (the run held out nothing).
func checkpointData(ck *checkpoint, c *Config, spec string) (*data.Dataset, string, error) {
	own := ck.hasConfig && (spec == "" || absData(spec) == absData(ck.cfg.Data))
	if spec != "" {
		c.Data = spec
	}
	all, test, err := loadDataset(c, ck.classes)
	if err != nil {
		return nil, "", err
	}
	ds, split := test, "test"
	if ds == nil {
		ds, split = all, "all"
		if own {
			split = "training"
			if frac := legacyTestFraction(&ck.cfg); frac > 0 {
				if _, ds, err = all.Split(frac, testSeed); err != nil {
					return nil, "", err
				}
				split = "test"
			}
		}
	}
	if err := ck.applyTransform(ds); err != nil {
		return nil, "", err
	}
	return ds, split, nil
}

func evaluate[T num.Float](ctx context.Context, ck *checkpoint, ds *data.Dataset, workers, batch int) (parallel.Metrics, error) {
	m, err := loadModel[T](ck)
	if err != nil {
		return parallel.Metrics{}, err
	}
	if ds.Features != m.Spec.Inputs {
		return parallel.Metrics{}, fmt.Errorf("%s has %d features, the model takes %d", ds.Name, ds.Features, m.Spec.Inputs)
	}
	if err := ds.TargetWidth(m.Spec.Outputs()); err != nil {
		return parallel.Metrics{}, fmt.Errorf("%s: %w", ck.path, err)
	}
	loss := model.DefaultLoss(m.Spec)
	if ck.cfg.Loss != "" {
		if loss, err = model.ParseLoss(ck.cfg.Loss); err != nil {
			return parallel.Metrics{}, err
		}
	}
	opt, _ := optim.New[T](optim.Defaults(optim.SGD), len(m.Params)) // evaluation takes no step
	// Buffers for more rows than the data has would be wasted (or fail).
	tr, err := parallel.New(m, opt, parallel.Config{Workers: workers, BatchSize: max(1, min(batch, ds.N)), Loss: loss})
	if err != nil {
		return parallel.Metrics{}, err
	}
	return tr.Evaluate(ctx, ds)
}

// forEachPrediction runs the model over ds in batches and calls f with each
// row's index and output.
func forEachPrediction[T num.Float](m *model.Model[T], ds *data.Dataset, f func(row int, out []T) error) error {
	const batch = 256
	ws := model.NewWorkspace(m, batch)
	x := make([]T, batch*ds.Features)
	out := m.Spec.Outputs()
	for lo := 0; lo < ds.N; lo += batch {
		n := min(batch, ds.N-lo)
		for r := 0; r < n; r++ {
			data.FillRow(ds, lo+r, x[r*ds.Features:(r+1)*ds.Features])
		}
		pred := ws.Forward(x, n, false)
		for r := 0; r < n; r++ {
			if err := f(lo+r, pred[r*out:(r+1)*out]); err != nil {
				return err
			}
		}
	}
	return nil
}

// regressionMetrics are a regression model's figures over all outputs:
// MSE, RMSE and MAE over every element, and R² (1 − SS_res/SS_tot) per
// output, averaged over the outputs as scikit-learn's r2_score does.
type regressionMetrics struct {
	N                  int
	MSE, RMSE, MAE, R2 float64
	OutputR2           []float64
}

func evaluateRegression[T num.Float](ck *checkpoint, ds *data.Dataset) (regressionMetrics, error) {
	m, err := loadModel[T](ck)
	if err != nil {
		return regressionMetrics{}, err
	}
	if ds.Features != m.Spec.Inputs {
		return regressionMetrics{}, fmt.Errorf("%s has %d features, the model takes %d", ds.Name, ds.Features, m.Spec.Inputs)
	}
	k := m.Spec.Outputs()
	if ds.Task != data.Regression || ds.Outputs != k {
		return regressionMetrics{}, fmt.Errorf("%s: %d regression targets, the model has %d outputs", ds.Name, ds.Outputs, k)
	}
	mean := make([]float64, k)
	for i := 0; i < ds.N; i++ {
		for j := range k {
			mean[j] += ds.Targets[i*k+j] / float64(ds.N)
		}
	}
	ssRes, ssTot := make([]float64, k), make([]float64, k)
	var sq, abs float64
	err = forEachPrediction(m, ds, func(i int, out []T) error {
		for j, v := range out {
			y := ds.Targets[i*k+j]
			d := float64(v) - y
			sq += d * d
			abs += math.Abs(d)
			ssRes[j] += d * d
			ssTot[j] += (y - mean[j]) * (y - mean[j])
		}
		return nil
	})
	if err != nil {
		return regressionMetrics{}, err
	}
	n := float64(ds.N * k)
	rm := regressionMetrics{N: ds.N, MSE: sq / n, MAE: abs / n}
	rm.RMSE = math.Sqrt(rm.MSE)
	for j := range k {
		r2 := 1 - ssRes[j]/ssTot[j] // NaN (reported as null) for a constant target
		rm.OutputR2 = append(rm.OutputR2, r2)
		rm.R2 += r2 / float64(k)
	}
	return rm, nil
}

func (rm regressionMetrics) print(w io.Writer, ds *data.Dataset, split string, asJSON bool) error {
	if asJSON {
		r2 := make([]*float64, len(rm.OutputR2))
		for i, v := range rm.OutputR2 {
			r2[i] = jsonNum(v)
		}
		return printJSON(w, map[string]any{"event": "eval", "dataset": ds.Name, "split": split, "task": "regression", "samples": rm.N,
			"mse": jsonNum(rm.MSE), "rmse": jsonNum(rm.RMSE), "mae": jsonNum(rm.MAE), "r2": jsonNum(rm.R2), "output_r2": r2})
	}
	fmt.Fprintf(w, "%s: %d samples\nMSE   %.6g\nRMSE  %.6g\nMAE   %.6g\nR²    %.4f\n", ds.Name, rm.N, rm.MSE, rm.RMSE, rm.MAE, rm.R2)
	if len(rm.OutputR2) > 1 {
		for j, v := range rm.OutputR2 {
			fmt.Fprintf(w, "  R² of output %d  %.4f\n", j, v)
		}
	}
	return nil
}

// printMetrics writes a classification evaluation as text or one JSON object.
func printMetrics(w io.Writer, ds *data.Dataset, split string, m parallel.Metrics, asJSON bool) error {
	type class struct {
		Name      string   `json:"class"`
		Support   int64    `json:"support"`
		Precision *float64 `json:"precision"`
		Recall    *float64 `json:"recall"`
		F1        *float64 `json:"f1"`
	}
	var classes []class
	for i, row := range m.Confusion {
		var tp, support, predicted int64
		for j, v := range row {
			support += v
			predicted += m.Confusion[j][i]
			if i == j {
				tp = v
			}
		}
		p, r := float64(tp)/float64(predicted), float64(tp)/float64(support)
		classes = append(classes, class{Name: ds.Classes[i], Support: support, Precision: jsonNum(p), Recall: jsonNum(r), F1: jsonNum(2 * p * r / (p + r))})
	}
	if asJSON {
		return printJSON(w, map[string]any{"event": "eval", "dataset": ds.Name, "split": split, "task": "classification", "samples": m.N,
			"loss": jsonNum(m.Loss), "accuracy": jsonNum(m.Accuracy), "confusion": m.Confusion, "classes": classes})
	}
	fmt.Fprintf(w, "%s: %d samples\nloss      %.4f\n", ds.Name, m.N, m.Loss)
	if math.IsNaN(m.Accuracy) {
		return nil
	}
	fmt.Fprintf(w, "accuracy  %.2f%%\n\n", 100*m.Accuracy)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tprecision\trecall\tf1\tsupport\t")
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.3f", *p)
	}
	for _, c := range classes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t\n", c.Name, f(c.Precision), f(c.Recall), f(c.F1), c.Support)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nconfusion matrix (rows: true class, columns: predicted)")
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, c := range ds.Classes {
		fmt.Fprintf(tw, "%s\t", c)
	}
	fmt.Fprintln(tw)
	for i, row := range m.Confusion {
		fmt.Fprintf(tw, "%s\t", ds.Classes[i])
		for _, v := range row {
			fmt.Fprintf(tw, "%d\t", v)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

const predictExamples = `
Examples:
  ptrain predict -model ptrain.safetensors -input rows.csv -csv-header=false
  ptrain predict -model iris.safetensors -input iris.csv -csv-skip 1 -csv-header=false   # the training file: its label column is dropped
  cat rows.csv | ptrain predict -model ptrain.safetensors -input - -csv-header=false
  ptrain predict -model mnist.safetensors -input t10k-images-idx3-ubyte.gz -output predictions.csv
`

// cmdPredict is "ptrain predict".
func cmdPredict(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	path := fs.String("model", "", "checkpoint (required)")
	input := fs.String("input", "", "CSV rows, or an IDX image file (gzip or raw); - for stdin (required)")
	output := fs.String("output", "", "write the predictions here instead of stdout")
	co := csvFlags{header: true, delim: ","}
	co.bind(fs, "the label column(s), as for train (default: the training run's -label, else the last column): dropped when the rows have them, so the training file itself can be the input")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain predict -model CKPT -input FILE [flags]\n\nWrites one CSV row per input: the predicted class and every class probability, or the regression outputs.\nThe CSV flags mean what they mean for train.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), predictExamples)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || *input == "" {
		return errUsage{fmt.Errorf("-model CKPT and -input FILE are required (see ptrain predict -h)")}
	}
	comma, err := delimiter(co.delim)
	if err != nil {
		return errUsage{err}
	}
	if co.skip < 0 {
		return errUsage{fmt.Errorf("-csv-skip %d: must be ≥ 0", co.skip)}
	}
	if *output != "" {
		if err := checkOutput("-output", *output); err != nil {
			return err
		}
	}
	ck, err := readCheckpoint(*path)
	if err != nil {
		return err
	}
	if !given(fs)["label"] {
		co.label = ck.cfg.Label
	}
	ds, err := predictInput(ck, *input, co, comma, ck.spec.Inputs) // the spec readCheckpoint checked
	if err != nil {
		return err
	}
	write := func(w io.Writer) error {
		if ck.dtype == "F64" {
			return predict[float64](ck, ds, w)
		}
		return predict[float32](ck, ds, w)
	}
	if *output == "" {
		return write(os.Stdout)
	}
	return writeFileAtomic(*output, write) // whole, or not at all
}

// predictInput reads IDX images or CSV feature rows from path ("-" is
// stdin) and applies the checkpoint's feature transform.
func predictInput(ck *checkpoint, path string, co csvFlags, comma rune, inputs int) (*data.Dataset, error) {
	name := path
	var raw []byte
	if path == "-" {
		name = "stdin"
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return nil, fmt.Errorf("-input -: %w", err)
		}
		if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
			z, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("stdin: %w", err)
			}
			if b, err = io.ReadAll(z); err != nil {
				return nil, fmt.Errorf("stdin: %w", err)
			}
		}
		raw = b
	}
	var ds *data.Dataset
	var x *data.IDX
	var err error
	if raw != nil {
		x, err = data.ReadIDX(bytes.NewReader(raw), name)
	} else {
		x, err = data.ReadIDXFile(path)
	}
	var fe *data.FormatError
	switch {
	case err == nil:
		n := x.Dims[0]
		ds = &data.Dataset{Name: name, N: n, Features: len(x.Data) / n, U8: x.Data}
	case !errors.As(err, &fe) || !strings.Contains(fe.Msg, "magic"):
		return nil, err
	default: // not IDX: CSV rows
		var r io.Reader = bytes.NewReader(raw)
		if raw == nil {
			rc, err := data.OpenMaybeGzip(path)
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			r = rc
		}
		if ds, err = predictCSV(r, name, co, comma, inputs); err != nil {
			return nil, err
		}
	}
	if err := ck.applyTransform(ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// predictCSV reads feature rows: every column, less the label column(s)
// when the rows have them — a header column named like the label, or, by
// index (the last column by default), one column more than the model takes.
func predictCSV(r io.Reader, name string, co csvFlags, comma rune, inputs int) (*data.Dataset, error) {
	opt := data.CSVOptions{Comma: comma, Skip: co.skip, Header: co.header, NoLabel: true}
	parts := strings.Split(co.label, ",")
	if co.header && len(parts) == 1 && !isInt(co.label) {
		opt.Label = co.label // skipped if the header has it, never parsed
	}
	ds, err := data.ReadCSV(r, name, opt)
	var fe *data.FormatError
	if errors.As(err, &fe) {
		return nil, fmt.Errorf("%w (read with -csv-skip %d, -csv-header=%v; the flags mean what they mean for train)", err, co.skip, co.header)
	}
	if err != nil {
		return nil, err
	}
	if ds.Features == inputs {
		return ds, nil
	}
	if cols := labelIndices(parts, ds.Columns, ds.Features); cols != nil && ds.Features-len(cols) == inputs {
		dropColumns(ds, cols)
		return ds, nil
	}
	return nil, fmt.Errorf("%s: %d columns per row, the model takes %d features (with the label column %q dropped it would be %d; check -label, -csv-header and -csv-skip)",
		name, ds.Features, inputs, co.label, ds.Features-len(parts))
}

// labelIndices resolves label column specs (names in columns, or indices,
// negative from the end; "" is the last column) over width columns, or
// returns nil if some cannot be resolved.
func labelIndices(parts, columns []string, width int) []int {
	var cols []int
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			p = "-1"
		}
		c := slices.Index(columns, p)
		if i, err := strconv.Atoi(p); err == nil {
			if c = i; i < 0 {
				c = i + width
			}
		}
		if c < 0 || c >= width || slices.Contains(cols, c) {
			return nil
		}
		cols = append(cols, c)
	}
	return cols
}

// dropColumns removes the columns cols from ds's float rows.
func dropColumns(ds *data.Dataset, cols []int) {
	keep := make([]bool, ds.Features)
	for j := range keep {
		keep[j] = !slices.Contains(cols, j)
	}
	f := ds.F64[:0]
	for i := 0; i < ds.N; i++ {
		for j, k := range keep {
			if k {
				f = append(f, ds.F64[i*ds.Features+j])
			}
		}
	}
	var names []string
	for j, c := range ds.Columns {
		if keep[j] {
			names = append(names, c)
		}
	}
	ds.F64, ds.Columns, ds.Features = f, names, ds.Features-len(cols)
}

func isInt(s string) bool { _, err := strconv.Atoi(strings.TrimSpace(s)); return err == nil }

func predict[T num.Float](ck *checkpoint, ds *data.Dataset, w io.Writer) error {
	m, err := loadModel[T](ck)
	if err != nil {
		return err
	}
	if ds.Features != m.Spec.Inputs {
		return fmt.Errorf("%s: %d features per row, the model takes %d", ds.Name, ds.Features, m.Spec.Inputs)
	}
	out := m.Spec.Outputs()
	cw := csv.NewWriter(w)
	head := []string{"row"}
	classes := ck.isClassifier()
	names := ck.classNames()
	if classes {
		head = append(head, "class")
		if out == 1 {
			head = append(head, "p_"+names[len(names)-1])
		} else {
			for _, c := range names {
				head = append(head, "p_"+c)
			}
		}
	} else {
		for j := 0; j < out; j++ {
			head = append(head, "y"+strconv.Itoa(j))
		}
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, 0, len(head))
	err = forEachPrediction(m, ds, func(i int, row []T) error {
		rec = append(rec[:0], strconv.Itoa(i))
		if classes {
			rec = append(rec, names[model.Class(row)])
		}
		for _, v := range row {
			rec = append(rec, strconv.FormatFloat(float64(v), 'g', 6, 64))
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
