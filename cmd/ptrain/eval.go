package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/parallel"
)

const evalExamples = `
Examples:
  ptrain eval -model ptrain.safetensors                 # the run's own test split
  ptrain eval -model mnist.safetensors -data mnist -json
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
	download := fs.Bool("download", false, "-data mnist or fashion-mnist: download the files missing from the data directory first, SHA-256 verified (as train -download)")
	co := csvFlags{header: true, delim: ","}
	co.bind(fs, "CSV label column(s), as for train")
	maxMiB := fs.Int("csv-max-mib", 0, "bound on the memory of a CSV table's decoded rows, in MiB, as for train (default: the training run's)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain eval -model CKPT [flags]\n\nEvaluates a checkpoint: for classification loss, accuracy, the confusion matrix and per-class\nprecision and recall; for regression MSE, RMSE, MAE and R² (in the target's units).\nThe CSV flags default to the training run's. A table goes through the checkpoint's preprocessing:\nits columns are found by header name, in any order (see ptrain info).\n\nFlags:\n")
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
	if co.skip < 0 {
		return errUsage{fmt.Errorf("-csv-skip %d: must be ≥ 0", co.skip)}
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
	c.Download = *download // this command's choice, not the training run's
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
	if set["csv-max-mib"] {
		if *maxMiB < 1 {
			return errUsage{fmt.Errorf("-csv-max-mib %d: must be ≥ 1", *maxMiB)}
		}
		c.CSVMaxMiB = *maxMiB
	}
	ds, split, err := checkpointData(ck, &c, *dataSpec)
	if err != nil {
		return err
	}
	if split == "training" {
		fmt.Fprintf(stderr, "ptrain eval: note: the run held out no test split (-test 0), so these are the %d samples it was trained on, not a test score; give -data with held-out data\n", ds.N)
	}
	if err := ck.checkTask(ds); err != nil {
		return err
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
		return rm.print(os.Stdout, ds, split, ck.targetNames(), *asJSON)
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
	if strings.HasPrefix(c.Data, "csv:") && ck.task != "" {
		c.Task = ck.task // a CSV's labels are read as the model's task
	}
	if ck.prep != nil && !strings.HasPrefix(c.Data, "csv:") {
		// Its preprocessing reads a table's columns; nothing else has them.
		return nil, "", errUsage{fmt.Errorf("-data %s: %s was trained on a CSV table, and %s is not one: give -data csv:FILE", c.Data, ck.path, c.Data)}
	}
	all, test, err := loadDataset(c, ck.classes, ck.prep != nil)
	if err != nil {
		return nil, "", err
	}
	ds, split := test, "test"
	if ds == nil {
		ds, split = all, "all"
		rec := ck.split
		switch {
		case rec.Known() && all.Fingerprint() == rec.Data:
			// The data the model trained on: its recorded test rows.
			split = "training"
			if rec.Share > 0 {
				if _, ds, err = all.Split(rec.Share, rec.Seed); err != nil {
					return nil, "", err
				}
				split = "test"
			}
		case rec.Known() && own:
			warnf("%s has changed since %s was trained (%d rows, fingerprint %s; the run's had %d rows, fingerprint %s): scoring all of it, which may include rows the model trained on",
				all.Name, ck.path, all.N, shortPrint(all.Fingerprint()), rec.Rows, rec.Short())
		case own:
			split = "training"
			if frac := legacyTestFraction(&ck.cfg); frac > 0 {
				if _, ds, err = all.Split(frac, testSeed); err != nil {
					return nil, "", err
				}
				split = "test"
			}
		case !rec.Known() && !ck.hasConfig:
			warnf("%s does not record which rows its model trained on (saved from Go code without a split record: data.TestSplit, Checkpoint.TrainedOn): if it trained on part of %s, these figures include rows it has seen", ck.path, all.Name)
		}
	}
	if ds, err = ck.encode(ds); err != nil {
		return nil, "", err
	}
	if strings.HasPrefix(c.Data, "folder:") {
		ck.pixelsAsTrained(ds, nil) // a folder of the other bit depth than the run's
	}
	if err := ck.applyTransform(ds); err != nil {
		return nil, "", err
	}
	ck.warnInputRange(ds, "-data")
	return ds, split, nil
}

func evaluate[T num.Float](ctx context.Context, ck *checkpoint, ds *data.Dataset, workers, batch int) (parallel.Metrics, error) {
	m, err := loadModel[T](ck)
	if err != nil {
		return parallel.Metrics{}, err
	}
	if err := ds.Fits(m.Spec.Inputs, m.Spec.Outputs()); err != nil {
		return parallel.Metrics{}, fmt.Errorf("%s: %w", ck.path, err)
	}
	loss := model.LossAuto // the trainer resolves it
	if ck.cfg.Loss != "" {
		if loss, err = model.ParseLoss(ck.cfg.Loss); err != nil {
			return parallel.Metrics{}, err
		}
	}
	tr, err := parallel.New(m, nil, parallel.Config{Workers: workers, Loss: loss}) // evaluation takes no step
	if err != nil {
		return parallel.Metrics{}, err
	}
	return tr.Evaluate(ctx, ds, batch)
}

// forEachPrediction runs the model over ds in batches and calls f with each
// row's index and output.
func forEachPrediction[T num.Float](m *model.Model[T], ds *data.Dataset, f func(row int, out []T) error) error {
	x := make([]T, predictBatch*ds.Features) // model.PredictBatches's batches have at most 256 rows
	out := m.Spec.Outputs()
	rows := func(lo, k int) []T {
		for r := range k {
			data.FillRow(ds, lo+r, x[r*ds.Features:(r+1)*ds.Features])
		}
		return x[:k*ds.Features]
	}
	return m.PredictBatches(ds.N, rows, func(lo int, pred []T) error {
		for r := range len(pred) / out {
			if err := f(lo+r, pred[r*out:(r+1)*out]); err != nil {
				return err
			}
		}
		return nil
	})
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
			d := ck.prep.UnscaleOutput(j, float64(v)) - y // in the data's units
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

// print writes the figures as text or one JSON object; outputs names the
// model's outputs (the label columns), in R²'s order.
func (rm regressionMetrics) print(w io.Writer, ds *data.Dataset, split string, outputs []string, asJSON bool) error {
	if asJSON {
		r2 := make([]*float64, len(rm.OutputR2))
		for i, v := range rm.OutputR2 {
			r2[i] = jsonNum(v)
		}
		return printJSON(w, map[string]any{"event": "eval", "dataset": ds.Name, "split": split, "task": "regression", "samples": rm.N,
			"mse": jsonNum(rm.MSE), "rmse": jsonNum(rm.RMSE), "mae": jsonNum(rm.MAE), "r2": jsonNum(rm.R2), "output_r2": r2, "outputs": outputs})
	}
	fmt.Fprintf(w, "%s: %d samples of %s\nMSE   %.6g\nRMSE  %.6g\nMAE   %.6g\nR²    %.4f\n", ds.Name, rm.N, strings.Join(outputs, ", "), rm.MSE, rm.RMSE, rm.MAE, rm.R2)
	if len(rm.OutputR2) > 1 {
		for j, v := range rm.OutputR2 {
			fmt.Fprintf(w, "  R² of %s  %.4f\n", outputs[j], v)
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
	for i := range m.Support {
		tp, support, predicted := m.Hits[i], m.Support[i], m.Predicted[i]
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
	if m.Confusion == nil {
		_, err := fmt.Fprintf(w, "\n(no confusion matrix: %d classes, more than %d)\n", len(ds.Classes), parallel.MaxConfusionClasses)
		return err
	}
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
