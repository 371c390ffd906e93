//go:build mpi

package mpi_test

import (
	"context"
	"math"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// epochFigures trains like fitSpec and returns every epoch's per-layer
// means, flattened: grad, weight and update norms, dead and saturated
// fractions.
func epochFigures(t *testing.T, workers int, group parallel.Group, train *data.Dataset) []float64 {
	t.Helper()
	m, _ := model.NewZero[float64](model.MustParseSpec("2-24:tanh:dropout=0.2-16:relu-3:softmax"))
	_ = m.Initialize(3, model.InitAuto)
	cfg := optim.Defaults(optim.Adam)
	cfg.LR = 0.01
	opt, _ := optim.New[float64](cfg, len(m.Params))
	tr, err := parallel.New(m, opt, parallel.Config{Workers: workers, Loss: model.CrossEntropy, Seed: 5, Group: group})
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	_, err = tr.Fit(context.Background(), train, nil, parallel.FitConfig{Epochs: 3, BatchSize: 32, Shuffle: true, Seed: 9, Accum: 2,
		OnEpoch: func(e parallel.EpochInfo) error {
			for _, l := range e.Layers {
				out = append(out, l.GradNorm.Mean, l.WeightNorm.Mean, l.UpdateRatio.Mean, l.DeadFrac.Mean, l.SaturatedFrac.Mean)
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Under MPI the figures are of the all-reduced gradient and the shared
// weights, with activation counts summed over the ranks: 2 processes × 2
// workers report what 1 × 4 does, and both ranks report the same.
func TestTwoProcessesReportOneProcessFigures(t *testing.T) {
	if world.Size() != 2 {
		t.Skipf("world of %d: run under mpirun -np 2", world.Size())
	}
	ds, _ := data.Synthetic("blobs", 301, 1)
	train, _, _ := ds.Split(0.2, 2)
	want := epochFigures(t, 4, nil, train)
	got := epochFigures(t, 2, world, train)
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%d figures, want %d", len(got), len(want))
	}
	rank0 := append([]float64(nil), got...)
	if err := world.Broadcast64(rank0, 0); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > 1e-9*math.Abs(w) {
			t.Errorf("rank %d: figure %d is %v with 2×2 workers, %v with 1×4", world.Rank(), i, g, w)
		}
		if g != rank0[i] && !(math.IsNaN(g) && math.IsNaN(rank0[i])) {
			t.Errorf("rank %d: figure %d is %v, rank 0's %v", world.Rank(), i, g, rank0[i])
		}
	}
}
