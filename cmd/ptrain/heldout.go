package main

import (
	"fmt"

	"github.com/ptrain/ptrain/data"
)

// A checkpoint records which rows its model trained on (data.SplitInfo:
// the data's fingerprint, the share held out and the seed) and the range
// of its inputs. A resumed run holds out the same rows of the same data or
// refuses; eval scores the recorded test rows, or says when it cannot
// know that it is not scoring training rows; eval, predict and a resumed
// run warn when the first rows' inputs lie far outside the training range.

// inputRangeRows is how many training rows the recorded input range is
// measured on: all of a table, MNIST's first 10,000 images (25 ms, where
// all 54,000 took 155 ms under load). The warning allows four ranges'
// margin, far more than the rows left out could add.
const inputRangeRows = 10_000

// recordedSplit is the checkpoint's split record; zero for a nil
// checkpoint or one without it.
func (ck *checkpoint) recordedSplit() data.SplitInfo {
	if ck == nil {
		return data.SplitInfo{}
	}
	return ck.Split
}

// checkSameData refuses to resume on data other than the checkpoint's:
// the split would hold out other rows, and the run would not be the one
// the checkpoint continues. all is the whole dataset, before any split.
func (ck *checkpoint) checkSameData(all *data.Dataset) error {
	fp := all.Fingerprint()
	if fp == ck.Split.Data {
		return nil
	}
	return errUsage{fmt.Errorf("-resume %s: the data has changed since the checkpoint: %s has %d rows with fingerprint %s, the run trained on %d rows with fingerprint %s; "+
		"resuming would hold out other test rows and mix two datasets in one run. To fine-tune the model on the new data, start a new run from its weights: -init %s -out NEW.safetensors",
		ck.path, all.Name, all.N, shortPrint(fp), ck.Split.Rows, ck.Split.Short(), ck.path)}
}

func shortPrint(fp string) string { return data.SplitInfo{Data: fp}.Short() }

// warnUnrecorded warns when a resumed checkpoint does not say which rows
// its model trained on (one saved from Go code without the record may
// have trained on rows this run's test split holds out), or its batch
// size, which the command line then gives.
func (ck *checkpoint) warnUnrecorded(sp *splits, c *Config) {
	if !ck.hasConfig && ck.BatchSize == 0 && !c.given["batch"] {
		warnf("%s does not record its batch size (Checkpoint.TrainedOn records it): resuming with -batch %d; give the run's -batch if it was another", ck.path, c.Batch)
	}
	if ck.Split.Known() || ck.hasConfig || sp.test == nil {
		return
	}
	warnf("%s does not record which rows its model trained on (data.TestSplit and Checkpoint.TrainedOn record them from Go): the %d test rows held out here (seed %d) may include rows it trained on, and its test accuracy may be too high",
		ck.path, sp.test.N, testSeed)
}

// warnInputRange warns when the first batch of ds, transformed as the
// model will see it, lies far outside the range of the training inputs:
// data scaled otherwise (0–255 pixels for a model trained on [0, 1]) give
// confident nonsense, not an error. flag names where ds came from.
func (ck *checkpoint) warnInputRange(ds *data.Dataset, flag string) {
	const rows = 256 // one batch: the check costs nothing next to the work
	if !ck.InputRange.Known() || ds.N == 0 {
		return
	}
	got := data.InputRange(ds, rows)
	if got.FarOutside(ck.InputRange) {
		warnf("%s %s: the first %d rows' inputs span %v, the model %s was trained on inputs in %v: is the data scaled as it was for training (the checkpoint's transform, -normalize, [0, 1] pixels)?",
			flag, ds.Name, min(rows, ds.N), got, ck.path, ck.InputRange)
	}
}
