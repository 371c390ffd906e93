package model

import "github.com/ptrain/ptrain/model/num"

// Batch norm's per-plane sums in float64, each in four interleaved
// partial sums. With one running sum every add waits on the previous
// one's latency (4 cycles), and batch norm's statistics and gradient sums
// were a fifth of a ResNet-8 step; four independent chains keep the adder
// busy. The result differs from a single running sum only in rounding
// order.

// sumF64 is Σ x.
func sumF64[T num.Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// sqDevF64 is Σ (x − m)².
func sqDevF64[T num.Float](x []T, m float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		d0, d1, d2, d3 := float64(x[i])-m, float64(x[i+1])-m, float64(x[i+2])-m, float64(x[i+3])-m
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - m
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// gradSumsF64 is Σ dy and Σ dy·(x − m) over one plane (len(x) ≥ len(dy)).
func gradSumsF64[T num.Float](dy, x []T, m float64) (sdy, sdyx float64) {
	x = x[:len(dy)]
	var a0, a1, a2, a3, b0, b1, b2, b3 float64
	i := 0
	for ; i+4 <= len(dy); i += 4 {
		d0, d1, d2, d3 := float64(dy[i]), float64(dy[i+1]), float64(dy[i+2]), float64(dy[i+3])
		a0 += d0
		a1 += d1
		a2 += d2
		a3 += d3
		b0 += d0 * (float64(x[i]) - m)
		b1 += d1 * (float64(x[i+1]) - m)
		b2 += d2 * (float64(x[i+2]) - m)
		b3 += d3 * (float64(x[i+3]) - m)
	}
	for ; i < len(dy); i++ {
		d := float64(dy[i])
		a0 += d
		b0 += d * (float64(x[i]) - m)
	}
	return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)
}
