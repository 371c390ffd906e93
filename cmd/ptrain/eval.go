package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

const evalExamples = `
Examples:
  ptrain eval -model ptrain.safetensors                 # the run's own test split
  ptrain eval -model mnist.safetensors -data mnist:../shared/datasets/mnist -json
  ptrain eval -model iris.safetensors -data csv:other.csv
`

// cmdEval is "ptrain eval".
func cmdEval(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	path := fs.String("model", "", "checkpoint to evaluate (required)")
	dataSpec := fs.String("data", "", "dataset (default: the one the model was trained on); its test split is used when it has one")
	workers := fs.Int("workers", 0, "worker goroutines (0: one per usable CPU)")
	batch := fs.Int("batch", 256, "evaluation batch size")
	asJSON := fs.Bool("json", false, "print one JSON object with loss, accuracy, confusion and per-class figures")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain eval -model CKPT [flags]\n\nEvaluates a checkpoint: loss, accuracy and, for classification, the confusion matrix and per-class precision and recall.\n\nFlags:\n")
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
	ck, err := readCheckpoint(*path)
	if err != nil {
		return err
	}
	ds, err := checkpointData(ck, *dataSpec)
	if err != nil {
		return err
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
	return printMetrics(os.Stdout, ds, met, *asJSON)
}

// checkpointData loads the data to evaluate a checkpoint on: spec, or the
// checkpoint's own dataset, with the checkpoint's classes and transform.
// Of a dataset with a test split, the test split is used.
func checkpointData(ck *checkpoint, spec string) (*data.Dataset, error) {
	c := ck.cfg
	if spec != "" {
		c.Data = spec
	}
	all, test, err := loadDataset(&c, ck.classes)
	if err != nil {
		return nil, err
	}
	ds := test
	if ds == nil {
		ds = all
		if spec == "" { // the run's own held-out split
			if frac := testFraction(&c); frac > 0 {
				if _, ds, err = all.Split(frac, testSeed); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := ck.applyTransform(ds); err != nil {
		return nil, err
	}
	return ds, nil
}

func evaluate[T num.Float](ctx context.Context, ck *checkpoint, ds *data.Dataset, workers, batch int) (parallel.Metrics, error) {
	m, err := loadModel[T](ck)
	if err != nil {
		return parallel.Metrics{}, err
	}
	if ds.Features != m.Spec.Inputs {
		return parallel.Metrics{}, fmt.Errorf("%s has %d features, the model takes %d", ds.Name, ds.Features, m.Spec.Inputs)
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

// printMetrics writes the evaluation as text or one JSON object.
func printMetrics(w io.Writer, ds *data.Dataset, m parallel.Metrics, asJSON bool) error {
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
		return printJSON(w, map[string]any{"dataset": ds.Name, "samples": m.N, "loss": jsonNum(m.Loss), "accuracy": jsonNum(m.Accuracy), "confusion": m.Confusion, "classes": classes})
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
  ptrain predict -model mnist.safetensors -input t10k-images-idx3-ubyte.gz -output predictions.csv
`

// cmdPredict is "ptrain predict".
func cmdPredict(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	path := fs.String("model", "", "checkpoint (required)")
	input := fs.String("input", "", "CSV rows of features, or an IDX image file (gzip or raw) (required)")
	output := fs.String("output", "", "write the predictions here instead of stdout")
	header := fs.Bool("csv-header", true, "the input CSV's first line names the columns (a column named like the training label is ignored)")
	delim := fs.String("csv-delim", ",", "input CSV field delimiter")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain predict -model CKPT -input FILE [flags]\n\nWrites one CSV row per input: the predicted class and every class probability, or the regression outputs.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), predictExamples)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || *input == "" {
		return errUsage{fmt.Errorf("-model CKPT and -input FILE are required (see ptrain predict -h)")}
	}
	comma, err := delimiter(*delim)
	if err != nil {
		return errUsage{err}
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
	ds, err := predictInput(ck, *input, *header, comma)
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

// predictInput reads IDX images or CSV feature rows and applies the
// checkpoint's feature transform.
func predictInput(ck *checkpoint, path string, header bool, comma rune) (*data.Dataset, error) {
	var ds *data.Dataset
	if x, err := data.ReadIDXFile(path); err == nil {
		n := x.Dims[0]
		ds = &data.Dataset{Name: path, N: n, Features: len(x.Data) / n, U8: x.Data}
	} else if fe, ok := err.(*data.FormatError); !ok || !strings.Contains(fe.Msg, "magic") {
		return nil, err
	} else {
		// Not IDX: a CSV of features. With a header, a column named like
		// the training label is skipped if it is there.
		opt := data.CSVOptions{Comma: comma, Header: header, NoLabel: true}
		if header && !isInt(ck.cfg.Label) {
			opt.Label = ck.cfg.Label
		}
		if ds, err = data.ReadCSVFile(path, opt); err != nil {
			return nil, err
		}
	}
	if err := ck.applyTransform(ds); err != nil {
		return nil, err
	}
	return ds, nil
}

func isInt(s string) bool { _, err := strconv.Atoi(s); return err == nil }

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
	classes := ck.task == "classification"
	if classes {
		head = append(head, "class")
		if out == 1 {
			head = append(head, "p_"+ck.classes[len(ck.classes)-1])
		} else {
			for _, c := range ck.classes {
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
	const batch = 256
	ws := model.NewWorkspace(m, batch)
	x := make([]T, batch*ds.Features)
	rec := make([]string, 0, len(head))
	for lo := 0; lo < ds.N; lo += batch {
		n := min(batch, ds.N-lo)
		for r := 0; r < n; r++ {
			data.FillRow(ds, lo+r, x[r*ds.Features:(r+1)*ds.Features])
		}
		pred := ws.Forward(x, n, false)
		for r := 0; r < n; r++ {
			row := pred[r*out : (r+1)*out]
			rec = append(rec[:0], strconv.Itoa(lo+r))
			if classes {
				rec = append(rec, ck.classes[model.Class(row)])
			}
			for _, v := range row {
				rec = append(rec, strconv.FormatFloat(float64(v), 'g', 6, 64))
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// cmdInfo is "ptrain info".
func cmdInfo(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the checkpoint's metadata as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain info [-json] CKPT\n\nPrints a checkpoint's architecture, parameter count, classes and training provenance.\n\nExample:\n  ptrain info ptrain.safetensors\n")
	}
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(os.Stdout)
			fs.Usage()
			return errHelp
		}
		return errUsage{err}
	}
	if fs.NArg() != 1 {
		return errUsage{fmt.Errorf("want one checkpoint path (see ptrain info -h)")}
	}
	b, err := safetensors.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	ck, err := decodeCheckpoint(fs.Arg(0), b, false)
	if err != nil {
		return err
	}
	m, err := model.New[float32](ck.spec) // for the layers' description; the weights are checked
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if *asJSON {
		return printJSON(os.Stdout, map[string]any{"arch": m.Spec.String(), "parameters": len(m.Params), "dtype": ck.dtype, "tensors": b.Names(), "metadata": b.Metadata})
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", fs.Arg(0))
	fmt.Fprintf(tw, "architecture\t%s\n", m.Spec)
	fmt.Fprintf(tw, "parameters\t%d (%s)\n", len(m.Params), ck.dtype)
	for i, d := range m.Layers {
		drop := ""
		if d.Dropout > 0 {
			drop = fmt.Sprintf(", dropout %g", d.Dropout)
		}
		fmt.Fprintf(tw, "  layer %d\t%d → %d, %s%s\n", i, d.In, d.Out, d.Act, drop)
	}
	for _, k := range []string{metaTask, metaClasses, metaOutputs, metaProgress, metaCreated, metaVersion, metaBackend, metaConfig} {
		if v, ok := b.Metadata[k]; ok {
			fmt.Fprintf(tw, "%s\t%s\n", strings.TrimPrefix(k, "ptrain."), v)
		}
	}
	return tw.Flush()
}
