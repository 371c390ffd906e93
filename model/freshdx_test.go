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
			p.FreshDx = fresh
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
