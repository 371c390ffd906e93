package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ptrain/ptrain/model/num"
)

// TestFreshDxLayersClearTheirInputGradient: a layer that clears its own
// input gradient (clearsOwnDx) and is handed an undefined dx
// (pass.FreshDx, here NaN everywhere) writes the bits it adds into a
// cleared dx otherwise — convolutions of every im2col path, in groups of
// one sample and of several, and batch norm in training and evaluation.
func TestFreshDxLayersClearTheirInputGradient(t *testing.T) {
	specs := []string{
		"3x9x9-conv(4,3,pad=1)",          // "same" padding
		"3x9x9-conv(4,3,stride=2,pad=1)", // strided
		"3x9x9-conv(4,3)",                // wide
		"3x9x9-conv(4,1,stride=2)",       // a 1×1 shortcut
		"16x12x12-conv(16,3,pad=1)",      // groups of one sample
		"3x9x9-bn",
		"12-bn",
	}
	for _, spec := range specs {
		t.Run(spec+"/float32", func(t *testing.T) { checkFreshDx[float32](t, spec) })
		t.Run(spec+"/float64", func(t *testing.T) { checkFreshDx[float64](t, spec) })
	}
}

func checkFreshDx[T num.Float](t *testing.T, spec string) {
	defer func(b int) { convGroupBytes = b }(convGroupBytes)
	convGroupBytes = 24 << 10 // groups of 2 samples at 9×9, of 1 at 16×12×12
	m, err := New[T](MustParseSpec(spec), 1)
	if err != nil {
		t.Fatal(err)
	}
	l := m.stack[0]
	if _, ok := l.(clearsOwnDx); !ok {
		t.Fatalf("%s does not clear its own input gradient", spec)
	}
	const n = 5
	rng := rand.New(rand.NewPCG(1, 2))
	in, out := l.Info().In.Size(), l.Info().Out.Size()
	x, dz := make([]T, n*in), make([]T, n*out)
	for i := range x {
		x[i] = T(rng.NormFloat64())
	}
	for i := range dz {
		dz[i] = T(rng.NormFloat64())
	}
	for _, train := range []bool{true, false} {
		w := NewWorkspace(m, n)
		w.Forward(x, n, train)
		backward := func(fresh bool) (dx, grad []T) {
			dx = make([]T, n*in)
			if fresh {
				for i := range dx {
					dx[i] = T(math.NaN())
				}
			}
			clear(w.Grad)
			p := w.passFor(0)
			p.FreshDx = 0
			if fresh {
				p.FreshDx = 1
			}
			l.Backward(p, x, append([]T(nil), dz...), dx)
			return dx, append([]T(nil), w.Grad...)
		}
		want, wantGrad := backward(false)
		got, gotGrad := backward(true)
		for i := range want {
			if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
				t.Fatalf("train %v: dx[%d] = %v with FreshDx, %v into a cleared dx", train, i, got[i], want[i])
			}
		}
		for i := range wantGrad {
			if math.Float64bits(float64(gotGrad[i])) != math.Float64bits(float64(wantGrad[i])) {
				t.Fatalf("train %v: Grad[%d] = %v with FreshDx, %v otherwise", train, i, gotGrad[i], wantGrad[i])
			}
		}
	}
}

// TestFreshDxSumSplitClearsItsInputGradients: a residual block's sum
// handed undefined gradients for some of its inputs (bits of
// pass.FreshDx, here NaN) writes into them the bits it adds into cleared
// ones — +0 where dz is −0 — and adds into the others, over gradients
// longer than one chunk.
func TestFreshDxSumSplitClearsItsInputGradients(t *testing.T) {
	m, err := New[float32](MustParseSpec("16x20x20-res(conv(16,3,pad=1))"), 1)
	if err != nil {
		t.Fatal(err)
	}
	last := len(m.stack) - 1
	s, ok := m.stack[last].(*sum[float32])
	if !ok {
		t.Fatalf("layer %d is %T, not the block's sum", last, m.stack[last])
	}
	if _, ok := m.stack[last].(clearsOwnDx); !ok {
		t.Fatal("the sum does not clear its own input gradients")
	}
	const n = 3
	w := NewWorkspace(m, n)
	k := n * s.Info().Out.Size()
	if k <= 2*splitChunk {
		t.Fatalf("%d values: not over two chunks", k)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	dz, prior := make([]float32, k), make([]float32, k)
	for i := range dz {
		dz[i], prior[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		if i%5 == 0 {
			dz[i] = float32(math.Copysign(0, -1))
		}
	}
	for mask := uint64(0); mask < 4; mask++ {
		dxs, want := make([][]float32, 2), make([][]float32, 2)
		for i := range dxs {
			dxs[i], want[i] = make([]float32, k), make([]float32, k)
			if mask>>i&1 != 0 {
				for j := range dxs[i] {
					dxs[i][j] = float32(math.NaN())
				}
			} else {
				copy(dxs[i], prior)
				copy(want[i], prior)
			}
			for j := range want[i] {
				want[i][j] += dz[j]
			}
		}
		p := w.passFor(last)
		p.FreshDx = mask
		s.split(p, dz, dxs)
		for i := range dxs {
			for j := range dxs[i] {
				if math.Float32bits(dxs[i][j]) != math.Float32bits(want[i][j]) {
					t.Fatalf("FreshDx %02b: input %d, value %d: %v, want %v", mask, i, j, dxs[i][j], want[i][j])
				}
			}
		}
	}
}
