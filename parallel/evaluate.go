package parallel

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ptrain/ptrain/data"
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
	t.reserveShare(batch)
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
