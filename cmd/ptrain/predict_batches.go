package main

import (
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
)

// forEachPrediction runs the model over ds in batches and calls f with each
// row's index and output.
func forEachPrediction[T num.Float](m *model.Model[T], ds *data.Dataset, f func(row int, out []T) error) error {
	var x []T // sized by the first batch, the largest: PredictBatches chooses the batch
	out := m.Spec.Outputs()
	rows := func(lo, k int) []T {
		if len(x) < k*ds.Features {
			x = make([]T, k*ds.Features)
		}
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
