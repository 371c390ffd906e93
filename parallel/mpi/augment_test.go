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

// TestTwoProcessesMatchOneProcessAugmented: with augmentation, 2 processes
// × 1 worker train what 1 process × 2 workers does (float64, 1e-10): each
// rank fills its share of the global batch with the draws of the samples'
// indices, never of the rank.
func TestTwoProcessesMatchOneProcessAugmented(t *testing.T) {
	if world.Size() != 2 {
		t.Skipf("world of %d: run under mpirun -np 2", world.Size())
	}
	ds, err := data.Digits()
	if err != nil {
		t.Fatal(err)
	}
	train, val, _ := ds.Split(0.2, 2)
	aug := &data.Augment{C: 1, H: 8, W: 8, Crop: 1, Flip: true, VFlip: true, Seed: 4}
	fit := func(workers int, group parallel.Group, a *data.Augment) *model.Model[float64] {
		m, _ := model.New[float64](model.MustParseSpec("1x8x8-conv(4,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax"), 3)
		cfg := optim.Defaults(optim.Momentum)
		cfg.LR = 0.05
		opt, _ := optim.New[float64](cfg, len(m.Params))
		tr, err := parallel.New(m, opt, parallel.Config{Workers: workers, Loss: model.CrossEntropy, Seed: 5, Group: group})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Fit(context.Background(), train, val, parallel.FitConfig{Epochs: 2, BatchSize: 64, Shuffle: true, Seed: 9, Augment: a}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	want := fit(2, nil, aug)
	got := fit(1, world, aug)
	var worst float64
	for i := range got.Params {
		worst = max(worst, math.Abs(got.Params[i]-want.Params[i]))
	}
	for i := range got.Buffers {
		worst = max(worst, math.Abs(got.Buffers[i]-want.Buffers[i]))
	}
	if worst >= 1e-10 {
		t.Fatalf("rank %d: max |Δ| = %g between 2×1 and 1×2 workers with augmentation", world.Rank(), worst)
	}
	plain := fit(2, nil, nil)
	if math.Abs(plain.Params[0]-want.Params[0]) == 0 && math.Abs(plain.Params[len(plain.Params)-1]-want.Params[len(want.Params)-1]) == 0 {
		t.Fatal("augmentation changed nothing")
	}
}
