package model

import (
	"math/rand/v2"
	"testing"
)

func reluData() (z, a, d []float32) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 512 * 384
	z, a, d = make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range z {
		z[i] = float32(rng.NormFloat64())
		d[i] = 1
	}
	return
}

func BenchmarkReLUBackwardBranch(b *testing.B) {
	z, a, d := reluData()
	reluForward(z, a)
	for b.Loop() {
		for i, v := range a {
			if v <= 0 {
				d[i] = 0
			}
		}
	}
}

func BenchmarkReLUBackwardMask(b *testing.B) {
	z, a, d := reluData()
	reluForward(z, a)
	for b.Loop() {
		reluBackward(a, d)
	}
}

func BenchmarkReLUForwardMax(b *testing.B) {
	z, a, _ := reluData()
	for b.Loop() {
		for i, v := range z {
			a[i] = max(v, 0)
		}
	}
}

func BenchmarkReLUForwardMask(b *testing.B) {
	z, a, _ := reluData()
	for b.Loop() {
		reluForward(z, a)
	}
}
