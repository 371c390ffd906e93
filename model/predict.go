package model

import (
	"fmt"

	"github.com/ptrain/ptrain/model/num"
)

// predictRows is the most rows Predict runs through one forward pass: its
// workspace holds activations for that many, whatever n is.
const predictRows = 256

// Predict runs the evaluation pass (no dropout; batch norm from its running
// statistics) on the n rows of x ((n, Inputs), row-major) and returns the
// output activations (n, Outputs) in a new slice: class probabilities under
// softmax or sigmoid, the values themselves under identity. It makes a
// workspace for the call, for up to 256 rows at a time; for many calls on
// small batches, a Workspace of your own and Forward allocate nothing.
// Like Forward, it may run concurrently with other readers of m, not with
// training.
func (m *Model[T]) Predict(x []T, n int) []T {
	in, out := m.Spec.Inputs, m.outputs()
	if n < 0 || len(x) < n*in {
		panic(fmt.Sprintf("model: Predict of %d rows from %d values, rows of %d", n, len(x), in))
	}
	y := make([]T, n*out)
	_ = m.PredictBatches(n, func(lo, k int) []T { return x[lo*in : (lo+k)*in] }, func(lo int, p []T) error {
		copy(y[lo*out:], p)
		return nil
	})
	return y
}

// PredictBatches is the evaluation pass over n rows, in batches of at most
// 256 in a workspace made for the call: rows(lo, k) returns rows
// [lo, lo+k) ((k, Inputs), k never more than the first call's), and f
// receives their outputs ((k, Outputs), a view valid until f returns). It
// returns f's first error, and stops there. Predict runs on it, and so can
// a caller whose rows are not in one slice (filled from a dataset, say).
func (m *Model[T]) PredictBatches(n int, rows func(lo, k int) []T, f func(lo int, y []T) error) error {
	if n <= 0 {
		return nil
	}
	return NewWorkspace(m, min(n, predictRows)).PredictBatches(n, rows, f)
}

// PredictBatches is Model.PredictBatches in this workspace, in batches of
// at most its capacity (NewWorkspace's maxBatch), and it allocates
// nothing. While f runs, the workspace's last Forward is the batch f
// receives, so f may take its loss against the batch's targets (Loss). A
// data-parallel evaluation runs it in each worker's workspace on the
// worker's rows of a batch.
func (w *Workspace[T]) PredictBatches(n int, rows func(lo, k int) []T, f func(lo int, y []T) error) error {
	for lo := 0; lo < n; lo += w.cap {
		k := min(w.cap, n-lo)
		if err := f(lo, w.Forward(rows(lo, k), k, false)); err != nil {
			return err
		}
	}
	return nil
}

// Classify returns the class of each of the n rows of x ((n, Inputs)): the
// index of the largest output, or for a single sigmoid output 1 when it
// exceeds 0.5 (see Class).
func (m *Model[T]) Classify(x []T, n int) []int {
	return Classes(m.Predict(x, n), m.outputs())
}

// Classes is Class of each row of width k of y ((n, k), as Predict returns).
func Classes[T num.Float](y []T, k int) []int {
	if k < 1 || len(y)%k != 0 {
		panic(fmt.Sprintf("model: Classes of %d values in rows of %d", len(y), k))
	}
	c := make([]int, len(y)/k)
	for i := range c {
		c[i] = Class(y[i*k : (i+1)*k])
	}
	return c
}

// outputs is the width of the model's output: Spec.Outputs without
// working the layout out again.
func (m *Model[T]) outputs() int { return m.Layout.Layers[len(m.Layout.Layers)-1].Out.Size() }
