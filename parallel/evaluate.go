package parallel

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
)

// Metrics summarises an evaluation.
type Metrics struct {
	Loss     float64 // mean loss
	Accuracy float64 // fraction correct (classification; NaN for regression)
	N        int
	// Support[i], Predicted[i] and Hits[i] count the samples of class i,
	// the predictions of class i and the samples of class i predicted as
	// it (classification only; one entry per class of the data).
	Support, Predicted, Hits []int64
	// Confusion[i][j] counts samples of class i predicted as j
	// (classification with at most MaxConfusionClasses classes; nil
	// otherwise).
	Confusion [][]int64
}

// Evaluate computes the loss and accuracy of the model on ds, in batches
// of batch rows shared among the workers, with dropout off. The figures
// depend on batch in their last bits only (the order of the sums); Fit
// evaluates in batches of FitConfig.BatchSize.
//
// The batch decides the sums, not the buffers: each worker runs its part
// of a batch through the rows its buffers hold, in pieces, and sizes them
// for no more than a training step of batch rows would. Under MPI, where
// every rank evaluates the whole set on its own, that is the rank's share
// (batch ÷ ranks), not the whole batch. The figures are those of whole
// parts to the bit with ptrain's own GEMM, whose outputs for a row do not
// depend on the rows beside it (model.LossSum keeps the loss sum's
// grouping), in either build where the CPU has those kernels; with
// OpenBLAS (-tags openblas on a CPU without them), whose kernels depend on
// the number of rows, they also depend in their last bits on the rows a
// worker holds, as they already do on the number of workers.
func (s *Session[T]) Evaluate(ds *data.Dataset, batch int) (Metrics, error) {
	t := s.t
	out := t.outputs
	if err := ds.Fits(t.inputs, out); err != nil {
		return Metrics{}, err
	}
	if batch < 1 {
		return Metrics{}, fmt.Errorf("evaluation batch size %d: must be positive", batch)
	}
	batch = min(batch, ds.N)
	if t.distributed() {
		size := t.cfg.Group.Size()
		t.reserveShare((batch + size - 1) / size) // the largest rank's share of a step
	} else {
		t.reserveShare(batch)
	}
	start := time.Now()
	k := max(out, 2)
	for w := range t.counts {
		t.counts[w].clear()
	}
	var m Metrics
	var loss float64
	var correct int64
	idx := make([]int, batch)
	for lo := 0; lo < ds.N; lo += batch {
		n := min(batch, ds.N-lo)
		for i := range n {
			idx[i] = lo + i
		}
		s.task.n, s.task.ds, s.task.idx = n, ds, idx[:n]
		if err := s.dispatch(phaseEval); err != nil {
			return m, err
		}
		for w := range t.res {
			loss += t.res[w].loss
			correct += t.res[w].correct
		}
	}
	m.N = ds.N
	m.Loss = loss / float64(ds.N)
	if t.distributed() {
		// Every rank evaluated the whole set on its own copy of the weights;
		// rank 0's figures decide (early stopping), so that all ranks agree.
		v := []float64{m.Loss, float64(correct)}
		if err := t.cfg.Group.Broadcast64(v, 0); err != nil {
			return m, err
		}
		m.Loss, correct = v[0], int64(v[1])
	}
	m.Accuracy = math.NaN()
	if ds.Task == data.Classification {
		m.Accuracy = float64(correct) / float64(ds.N)
		nc := len(ds.Classes)
		m.Support, m.Predicted, m.Hits = make([]int64, nc), make([]int64, nc), make([]int64, nc)
		for _, c := range t.counts {
			for i := range min(nc, k) {
				m.Support[i] += c.support[i]
				m.Predicted[i] += c.predicted[i]
				m.Hits[i] += c.hits[i]
			}
		}
		if nc <= MaxConfusionClasses && t.counts[0].conf != nil {
			m.Confusion = make([][]int64, nc)
			for i := range m.Confusion {
				m.Confusion[i] = make([]int64, nc)
				for j := range m.Confusion[i] {
					for _, c := range t.counts {
						if i < k && j < k {
							m.Confusion[i][j] += c.conf[i*k+j]
						}
					}
				}
			}
		}
	}
	t.stats.Eval += time.Since(start)
	return m, nil
}

// Evaluate is Session.Evaluate with workers started and stopped around it.
func (t *Trainer[T]) Evaluate(ctx context.Context, ds *data.Dataset, batch int) (Metrics, error) {
	var m Metrics
	err := t.Run(ctx, func(s *Session[T]) error {
		var err error
		m, err = s.Evaluate(ds, batch)
		return err
	})
	return m, err
}

// evalShard is worker w's part of an evaluation batch: its shard
// (data.Shard) of the batch's rows tk.idx of tk.ds through the evaluation
// pass, the loop every prediction runs on (model's PredictBatches), in
// pieces of the rows the worker's buffers hold. It sums the rows' losses
// (one model.LossSum over the shard, as one Loss of the whole shard would)
// and correct classes into the worker's result and its class counts;
// Evaluate adds the workers' in worker order, batch after batch.
func (t *Trainer[T]) evalShard(w int, tk *task[T]) {
	r, ws, counts := &t.res[w], t.ws[w], &t.counts[w]
	x, y := t.xbuf[w], t.ybuf[w]
	in, out := t.inputs, t.outputs
	lo, hi := data.Shard(tk.n, t.cfg.Workers, w)
	idx := tk.idx[lo:hi]
	var loss model.LossSum
	_ = ws.PredictBatches(len(idx), func(lo, k int) []T {
		for i, j := range idx[lo : lo+k] {
			data.FillRow(tk.ds, j, x[i*in:(i+1)*in])
			data.FillTarget(tk.ds, j, y[i*out:(i+1)*out])
		}
		return x[:k*in]
	}, func(_ int, pred []T) error {
		k := len(pred) / out
		ws.AddLoss(t.cfg.Loss, y[:k*out], &loss)
		r.correct += tally(pred, y, k, out, counts)
		return nil
	})
	r.loss = loss.Sum()
}
