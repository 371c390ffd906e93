package main

import (
	"fmt"

	"github.com/ptrain/ptrain/parallel"
)

// checkResumeProgress refuses progress that cannot belong to the run the
// checkpoint records: a batch beyond an epoch's steps, or an optimizer
// step count other than epochs × steps + batch (one that is not zero: a
// checkpoint of weights alone gets a new optimizer).
func checkResumeProgress(ck *checkpoint, p parallel.Progress, steps int, optSteps int64) error {
	if p.Batch > steps {
		return fmt.Errorf("-resume %s: metadata %q: step %d of an epoch, which has %d steps with this data, -batch and -accum", ck.path, metaProgress, p.Batch, steps)
	}
	if want := int64(p.Epoch)*int64(steps) + int64(p.Batch); optSteps != 0 && optSteps != want {
		return fmt.Errorf("-resume %s: metadata %q: the optimizer has taken %d steps, but epoch %d and step %d of epochs of %d steps make %d", ck.path, metaProgress, optSteps, p.Epoch, p.Batch, steps, want)
	}
	return nil
}
