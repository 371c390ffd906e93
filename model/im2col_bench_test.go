package model

import "testing"

// BenchmarkIm2col unrolls a group of samples for ResNet-8's "same"
// convolutions, one row of every sample per kernel call ("planes",
// im2col_planes.go) or per sample ("sample", samePlane), in ns per sample.
//
//	go test -run XXX -bench Im2col -count 3 ./model
func BenchmarkIm2col(b *testing.B) {
	for _, sp := range []string{"16x28x28-conv(16,3,pad=1)", "32x14x14-conv(32,3,pad=1)", "64x7x7-conv(64,3,pad=1)"} {
		for _, planes := range []bool{false, true} {
			b.Run(sp+map[bool]string{false: "/sample", true: "/planes"}[planes], func(b *testing.B) {
				spec, err := ParseSpec(sp + "-gap-10:softmax")
				if err != nil {
					b.Fatal(err)
				}
				m, err := New[float32](spec, 1)
				if err != nil {
					b.Fatal(err)
				}
				l := m.stack[0].(*conv[float32])
				if !planes {
					l.taps = nil
				} else if l.taps == nil || !haveAVX2 {
					b.Skip("no AVX2: samePlane only")
				}
				n := l.group(64)
				x := make([]float32, n*l.c*l.h*l.w)
				for i := range x {
					x[i] = float32(i%7) - 3
				}
				cols := make([]float32, n*l.hwc*l.kk)
				for b.Loop() {
					l.im2col(x, cols, n)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/sample")
			})
		}
	}
}
