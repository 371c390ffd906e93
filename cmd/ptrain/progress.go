package main

import (
	"fmt"

	"github.com/ptrain/ptrain/parallel"
)

// checkResumeProgress refuses progress that cannot belong to the run the
// checkpoint records: a batch beyond an epoch's steps, or an optimizer
// step count other than epochs × steps + batch (one that is not zero: a
// checkpoint of weights alone gets a new optimizer). The data is the
// run's: its split record and batch size were checked when it was loaded
// (loadSplits), so a ptrain run's epochs have the steps they had. A
// checkpoint without ptrain.config is another program's, whose epochs
// may have had other steps (a Go program that held out no validation
// split): its step count is only bounded, as parallel.FitConfig's
// StartForeign has Fit do, by one step a row of up to twice the rows of
// the training split for every epoch begun.
func checkResumeProgress(ck *checkpoint, p parallel.Progress, steps, rows int, optSteps int64) error {
	if p.Batch > steps {
		return fmt.Errorf("-resume %s: metadata %q: step %d of an epoch, which has %d steps with this data, -batch and -accum", ck.path, metaProgress, p.Batch, steps)
	}
	if !ck.hasConfig {
		if limit := (int64(p.Epoch) + 1) * 2 * int64(max(rows, 1)); optSteps > limit {
			return fmt.Errorf("-resume %s: metadata %q: the optimizer has taken %d steps, more than one a row of up to %d rows for each of %d epochs", ck.path, metaProgress, optSteps, 2*max(rows, 1), p.Epoch+1)
		}
		return nil
	}
	if want := int64(p.Epoch)*int64(steps) + int64(p.Batch); optSteps != 0 && optSteps != want {
		return fmt.Errorf("-resume %s: metadata %q: the optimizer has taken %d steps, but epoch %d and step %d of epochs of %d steps make %d", ck.path, metaProgress, optSteps, p.Epoch, p.Batch, steps, want)
	}
	return nil
}
