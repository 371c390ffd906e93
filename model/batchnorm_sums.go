package model

import "github.com/ptrain/ptrain/model/num"

// Batch norm's per-plane sums in float64. A single running sum makes
// every add wait on the previous one's latency, and batch norm's
// statistics and gradient sums were a fifth of a ResNet-8 step. Each sum
// here runs in 8 lanes — lane j sums the elements i ≡ j (mod 8) of the
// first ⌊n/8⌋·8 — folded as (s0+s2)+(s1+s3) with s_j = lane j + lane j+4,
// and the remaining elements added one by one: the order of the AVX2
// assembly (two 4-lane float64 registers), which float32 planes run in
// where it exists, so that both give the same bits. The result differs
// from a single running sum only in rounding order.
//
// Except for float64 statistics (sumF64, sqDevF64), which keep one
// running sum: float64 is the precision of checks, not of speed, and the
// PyTorch fixtures (parallel's TestMatchesPyTorch, 1e-9 after Adam steps)
// were met with that order and missed by 1.2e-9 with the 8 lanes.

// lanes8 accumulates the 8 lanes.
type lanes8 [8]float64

// fold is (s0+s2)+(s1+s3), s_j = lane j + lane j+4.
func (l *lanes8) fold() float64 {
	s0, s1, s2, s3 := l[0]+l[4], l[1]+l[5], l[2]+l[6], l[3]+l[7]
	return (s0 + s2) + (s1 + s3)
}

// sumF64 is Σ x.
func sumF64[T num.Float](x []T) float64 {
	if !num.Is32[T]() { // float64: one running sum (see above)
		var r float64
		for _, v := range x {
			r += float64(v)
		}
		return r
	}
	n8 := len(x) &^ 7
	var r float64
	if num.Is32[T]() && haveAVX2 && n8 > 0 {
		r = sum32AVX(&num.As32(x)[0], n8)
	} else {
		var l lanes8
		for i := 0; i < n8; i += 8 {
			v := x[i : i+8 : i+8]
			for j := range l {
				l[j] += float64(v[j])
			}
		}
		r = l.fold()
	}
	for _, v := range x[n8:] {
		r += float64(v)
	}
	return r
}

// sqDevF64 is Σ (x − m)².
func sqDevF64[T num.Float](x []T, m float64) float64 {
	if !num.Is32[T]() { // float64: one running sum (see above)
		var r float64
		for _, v := range x {
			d := float64(v) - m
			r += d * d
		}
		return r
	}
	n8 := len(x) &^ 7
	var r float64
	if num.Is32[T]() && haveAVX2 && n8 > 0 {
		r = sqDev32AVX(&num.As32(x)[0], n8, m)
	} else {
		var l lanes8
		for i := 0; i < n8; i += 8 {
			v := x[i : i+8 : i+8]
			for j := range l {
				d := float64(v[j]) - m
				l[j] += float64(d * d) // the conversion forbids an FMA, which the assembly does not use
			}
		}
		r = l.fold()
	}
	for _, v := range x[n8:] {
		d := float64(v) - m
		r += float64(d * d)
	}
	return r
}

// gradSumsF64 is Σ dy and Σ dy·(x − m) over one plane (len(x) ≥ len(dy)).
func gradSumsF64[T num.Float](dy, x []T, m float64) (sdy, sdyx float64) {
	x = x[:len(dy)]
	n8 := len(dy) &^ 7
	if num.Is32[T]() && haveAVX2 && n8 > 0 {
		sdy, sdyx = gradSums32AVX(&num.As32(dy)[0], &num.As32(x)[0], n8, m)
	} else {
		var a, b lanes8
		for i := 0; i < n8; i += 8 {
			d, v := dy[i:i+8:i+8], x[i:i+8:i+8]
			for j := range a {
				a[j] += float64(d[j])
				b[j] += float64(float64(d[j]) * (float64(v[j]) - m))
			}
		}
		sdy, sdyx = a.fold(), b.fold()
	}
	for i := n8; i < len(dy); i++ {
		d := float64(dy[i])
		sdy += d
		sdyx += float64(d * (float64(x[i]) - m))
	}
	return sdy, sdyx
}
