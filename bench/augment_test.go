package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/parallel"
)

// BenchmarkTrainStepAugment is one optimizer step of the README's
// batch-norm CNN on rows the workers fill from uint8 images, plain and
// with -augment crop=2,flip: the difference is augmentation's cost per
// step (goal: under 5%).
func BenchmarkTrainStepAugment(b *testing.B) {
	const n = 2048
	ds := &data.Dataset{Name: "bench", N: n, Features: 784, U8: make([]uint8, n*784), Scale: make([]float64, 784),
		Labels: make([]int32, n), Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
	for i := range ds.U8 {
		ds.U8[i] = uint8(i * 7 % 251)
	}
	for j := range ds.Scale {
		ds.Scale[j] = 1.0 / 255
	}
	for i := range ds.Labels {
		ds.Labels[i] = int32(i % 10)
	}
	aug := &data.Augment{C: 1, H: 28, W: 28, Crop: 2, Flip: true, Seed: 1}
	for _, batch := range []int{128} {
		for _, w := range []int{1, 2} {
			for _, a := range []*data.Augment{nil, aug} {
				name := "none"
				if a != nil {
					name = "crop=2,flip"
				}
				b.Run(fmt.Sprintf("batch=%d/workers=%d/augment=%s", batch, w, name), func(b *testing.B) {
					benchStepIndices(b, BNCNN, ds, a, w, batch)
				})
			}
		}
	}
}

func benchStepIndices(b *testing.B, spec string, ds *data.Dataset, a *data.Augment, w, batch int) {
	tr := trainer(b, spec, w)
	idx := make([]int, batch)
	err := tr.Run(context.Background(), func(s *parallel.Session[float32]) error {
		step := 0
		next := func() error {
			for r := range idx {
				idx[r] = (step*batch + r) % ds.N
			}
			s.Augment(a, step)
			step++
			_, err := s.StepIndices(ds, idx)
			return err
		}
		if err := next(); err != nil { // warm-up
			return err
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := next(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	st := tr.Stats()
	el := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*batch)/el, "samples/s")
	b.ReportMetric(100*st.Data.Seconds()/el, "%data")
}
