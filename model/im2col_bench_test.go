package model

import "testing"

// BenchmarkIm2col unrolls a group of samples for ResNet-8's convolutions,
// one row of every sample per kernel call where there is such a path
// ("planes", im2col_planes.go) or a sample at a time through the paths of
// one plane per call ("sample": samePlane, stride2Plane), in ns per
// sample; BenchmarkCol2im adds it back (col2im) the same two ways.
//
//	go test -run XXX -bench 'Im2col|Col2im' -count 3 ./model
func BenchmarkIm2col(b *testing.B) {
	benchUnroll(b, func(l *conv[float32], x, cols []float32, n int) { l.im2col(x, cols, n) })
}

func BenchmarkCol2im(b *testing.B) {
	benchUnroll(b, func(l *conv[float32], x, cols []float32, n int) { l.col2im(cols, x, n) })
}

func benchUnroll(b *testing.B, f func(l *conv[float32], x, cols []float32, n int)) {
	for _, sp := range []string{"16x28x28-conv(16,3,pad=1)", "32x14x14-conv(32,3,pad=1)", "64x7x7-conv(64,3,pad=1)", "16x28x28-conv(32,3,stride=2,pad=1)", "32x14x14-conv(64,3,stride=2,pad=1)", "16x28x28-conv(32,1,stride=2)", "32x14x14-conv(64,1,stride=2)"} {
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
				} else if !haveAVX2 {
					b.Skip("no AVX2: a plane per call only")
				}
				n := l.group(64)
				x := make([]float32, n*l.c*l.h*l.w)
				cols := make([]float32, n*l.hwc*l.kk)
				for i := range x {
					x[i] = float32(i%7) - 3
				}
				for i := range cols {
					cols[i] = float32(i%5) - 2
				}
				in, per := l.c*l.h*l.w, l.kk*l.hwc
				for b.Loop() {
					if planes {
						f(l, x, cols, n)
						continue
					}
					for s := range n {
						f(l, x[s*in:(s+1)*in], cols[s*per:(s+1)*per], 1)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/sample")
			})
		}
	}
}
