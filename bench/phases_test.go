package bench

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ptrain/ptrain/internal/trainhook"
	"github.com/ptrain/ptrain/parallel"
)

// BenchmarkStepPhases is BenchmarkTrainScaling's MLP step at batch 32 and
// 64 on 1 and 2 workers, timed phase by phase (trainhook.Timeline): for
// the forward and backward phase (grad), the reduction (reduce) and the
// update, the 25th percentile over the run's steps of the time from the
// dispatch to each worker's end of its share (-wN-us) and to the phase's
// end (-us). Where the 2-worker step loses against half a 1-worker step,
// and which worker waits for which, reads from these (bench/README.md);
// the 25th percentile, because on a shared machine many steps find a
// worker's core taken.
func BenchmarkStepPhases(b *testing.B) {
	for _, batch := range []int{32, 64} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("mlp/batch=%d/workers=%d", batch, w), func(b *testing.B) { benchStepPhases(b, w, batch) })
		}
	}
}

func benchStepPhases(b *testing.B, w, batch int) {
	const maxSteps = 20000 // recorded; the rest of a longer run is not
	tr := trainer(b, MNISTSpec, w)
	x := make([]float32, batch*784)
	randomFill(x, 3)
	y := make([]float32, batch*10)
	for r := 0; r < batch; r++ {
		y[r*10+r%10] = 1
	}
	var recs []trainhook.PhaseTiming
	err := tr.Run(context.Background(), func(s *parallel.Session[float32]) error {
		if _, err := s.Step(parallel.Batch[float32]{X: x, Y: y, N: batch}); err != nil { // warm-up
			return err
		}
		stop := trainhook.Timeline(s, 3*maxSteps)
		defer func() { recs = stop() }()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := s.Step(parallel.Batch[float32]{X: x, Y: y, N: batch}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, ph := range []struct {
		phase int
		name  string
	}{{0, "grad"}, {1, "reduce"}, {3, "update"}} {
		var wall []time.Duration
		ends := make([][]time.Duration, w)
		for _, r := range recs {
			if r.Phase != ph.phase {
				continue
			}
			wall = append(wall, r.Wall)
			for k := range ends {
				ends[k] = append(ends[k], r.End[k])
			}
		}
		if len(wall) == 0 {
			b.Fatalf("no %s phase recorded", ph.name)
		}
		b.ReportMetric(quartile(wall), ph.name+"-us")
		for k := range ends {
			b.ReportMetric(quartile(ends[k]), fmt.Sprintf("%s-w%d-us", ph.name, k))
		}
	}
}

// quartile is the 25th percentile of d in µs; it sorts d.
func quartile(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/4].Nanoseconds()) / 1e3
}
