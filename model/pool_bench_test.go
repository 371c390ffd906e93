package model

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkPoolPlane2 pools the small CNN's first convolution's planes
// (26×26 in rows 28 wide, 32 of them: one sample), forward and backward.
func BenchmarkPoolPlane2(b *testing.B) {
	const ww, pw, ph, planes = 28, 13, 13, 32
	rng := rand.New(rand.NewPCG(1, 2))
	zt := make([]float32, planes*26*ww)
	for i := range zt {
		zt[i] = float32(rng.NormFloat64())
	}
	out, id, g := make([]float32, planes*ph*pw), make([]float32, planes*ph*pw), make([]float32, planes*ph*pw)
	for i := range g {
		g[i] = float32(rng.NormFloat64())
	}
	d := make([]float32, len(zt))
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			for p := range planes {
				poolPlane2(zt[p*26*ww:(p+1)*26*ww], out[p*ph*pw:(p+1)*ph*pw], id[p*ph*pw:(p+1)*ph*pw], 1, 0.1, ww, pw, true)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*planes*ph*pw), "ns/output")
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			for p := range planes {
				unpoolPlane2(g[p*ph*pw:(p+1)*ph*pw], out[p*ph*pw:(p+1)*ph*pw], id[p*ph*pw:(p+1)*ph*pw], d[p*26*ww:(p+1)*26*ww], ww, pw, true)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*planes*ph*pw), "ns/output")
	})
}
