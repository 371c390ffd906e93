package main

import (
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
)

// forEachPrediction runs the model over ds in batches and calls f with each
// row's index and output.
func forEachPrediction[T num.Float](m *model.Model[T], ds *data.Dataset, f func(row int, out []T) error) error {
	const batch = 256
	ws := model.NewWorkspace(m, batch)
	x := make([]T, batch*ds.Features)
	out := m.Spec.Outputs()
	for lo := 0; lo < ds.N; lo += batch {
		n := min(batch, ds.N-lo)
		for r := 0; r < n; r++ {
			data.FillRow(ds, lo+r, x[r*ds.Features:(r+1)*ds.Features])
		}
		pred := ws.Forward(x, n, false)
		for r := 0; r < n; r++ {
			if err := f(lo+r, pred[r*out:(r+1)*out]); err != nil {
				return err
			}
		}
	}
	return nil
}
