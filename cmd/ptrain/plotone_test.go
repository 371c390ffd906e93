package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPlotOneGradientNorm: a history whose per-layer gradient norms hold
// one value in all (one epoch, one layer with a norm) plots. gonum widens
// a range of one value by ±1, and the log scale of the gradient panel
// then panicked ("Values must be greater than 0 for a log scale"), which
// -plot reported as an internal error after a one-epoch run.
func TestPlotOneGradientNorm(t *testing.T) {
	for _, v := range []float64{0.5, 3e-7, 40} {
		loss, acc, g := 0.7, 0.6, v
		rows := []epochRow{{Event: "epoch", Epoch: 1, TrainLoss: &loss, TrainAccuracy: &acc, LR: 0.01,
			epochDiag: epochDiag{Layers: []layerRow{{Layer: "dense.0", GradNorm: &g}, {Layer: "dense.1"}}}}}
		path := filepath.Join(t.TempDir(), "p.png")
		if err := plotHistory(path, rows); err != nil {
			t.Fatalf("norm %g: %v", v, err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
			t.Fatalf("norm %g: no plot written (%v)", v, err)
		}
	}
}
