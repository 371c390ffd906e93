package main

import (
	"testing"

	"github.com/ptrain/ptrain/parallel"
)

// TestDescribeProgress: info prints where a run stands in words, not the
// raw record (whose interrupted epoch's running sums are bits).
func TestDescribeProgress(t *testing.T) {
	for _, c := range []struct {
		p    parallel.Progress
		want string
	}{
		{parallel.Progress{}, "0 epochs done"},
		{parallel.Progress{Epoch: 1}, "1 epoch done"},
		{parallel.Progress{Epoch: 3, Batch: 7, Sums: &parallel.EpochSums{}}, "3 epochs done, 7 steps into epoch 4 (its running figures saved)"},
		{parallel.Progress{Epoch: 5, BestEpoch: 4, BestValLoss: 0.25, BadEpochs: 1}, "5 epochs done; best validation loss 0.25 at epoch 4, 1 epoch since"},
	} {
		if got := describeProgress(c.p); got != c.want {
			t.Errorf("describeProgress(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}
