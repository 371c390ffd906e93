package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

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

// cmdEval is "ptrain eval".
func cmdEval(ctx context.Context, args []string, std stdio) error {
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
	if err := parseFlags(fs, args, std.out); err != nil {
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
		fmt.Fprintf(std.err, "ptrain eval: note: the run held out no test split (-test 0), so these are the %d samples it was trained on, not a test score; give -data with held-out data\n", ds.N)
	}
	if err := ck.checkTask(ds); err != nil {
		return err
	}
	if ds.Task == data.Regression {
		var rm regressionMetrics
		if ck.DType == "F64" {
			rm, err = evaluateRegression[float64](ck, ds)
		} else {
			rm, err = evaluateRegression[float32](ck, ds)
		}
		if err != nil {
			return err
		}
		return rm.print(std.out, ds, split, ck.targetNames(), *asJSON)
	}
	var met parallel.Metrics
	if ck.DType == "F64" {
		met, err = evaluate[float64](ctx, ck, ds, *workers, *batch)
	} else {
		met, err = evaluate[float32](ctx, ck, ds, *workers, *batch)
	}
	if err != nil {
		return err
	}
	return printMetrics(std.out, ds, split, met, *asJSON)
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
	if strings.HasPrefix(c.Data, "csv:") && ck.Task != nil {
		c.Task = ck.Task.String() // a CSV's labels are read as the model's task
	}
	if ck.Preprocess != nil && !strings.HasPrefix(c.Data, "csv:") {
		// Its preprocessing reads a table's columns; nothing else has them.
		return nil, "", errUsage{fmt.Errorf("-data %s: %s was trained on a CSV table, and %s is not one: give -data csv:FILE", c.Data, ck.path, c.Data)}
	}
	all, test, err := loadDataset(c, ck.Classes, ck.Preprocess != nil)
	if err != nil {
		return nil, "", err
	}
	ds, split := test, "test"
	if ds == nil {
		ds, split = all, "all"
		rec := ck.Split
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
