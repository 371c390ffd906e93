package model

import (
	"math"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model/num"
)

// splitPass runs one training pass of n rows of m through ws with its
// dense layers deferred (defer) or not, from ResetGrad, and returns ws.
func splitPass[T num.Float](m *Model[T], ws *Workspace[T], x, y []T, n int, deferred bool) {
	ws.Defer = deferred
	ws.ResetGrad()
	ws.Forward(x, n, true)
	ws.LossGrad(CrossEntropy, y, 40)
	ws.Backward()
}

func splitRows[T num.Float](m *Model[T], n int, seed uint64) (x, y []T) {
	x, y = make([]T, n*m.Spec.Inputs), make([]T, n*m.Spec.Outputs())
	for i := range x {
		seed = seed*6364136223846793005 + 1442695040888963407
		x[i] = T(float64(int64(seed>>11)%2001-1000) / 1000)
	}
	for r := range n {
		y[r*m.Spec.Outputs()+r%m.Spec.Outputs()] = 1
	}
	return x, y
}

// TestWeightGradRangeIsTheProduct: with the dense layers deferred,
// Backward gives every other gradient as before, and WeightGradRange over
// any ranges — pieces of rows, whole rows, both — gives the weight
// gradient that a plain Backward writes: bit for bit on ptrain's own
// kernels, and within rounding elsewhere. A second workspace's product
// added with beta = 1 gives the bits of the two products added
// (num.Axpy) on ptrain's kernels too: what the trainer's split relies on.
func TestWeightGradRangeIsTheProduct(t *testing.T) {
	m, err := New[float32](MustParseSpec("37-23:relu:dropout=0.2-11:tanh-5:softmax"), 4)
	if err != nil {
		t.Fatal(err)
	}
	exact := num.OwnKernels()
	layers := []int{0, 1, 2}
	mk := func() *Workspace[float32] {
		ws := NewWorkspace(m, 16)
		ws.DeferWeightGrad(layers)
		ws.SetDropoutStream(1, 2, 0)
		return ws
	}
	a, b := mk(), mk()
	xa, ya := splitRows(m, 13, 1)
	xb, yb := splitRows(m, 9, 2)
	splitPass(m, a, xa, ya, 13, false)
	splitPass(m, b, xb, yb, 9, false)
	wantA := append([]float32(nil), a.Grad...)
	sum := append([]float32(nil), a.Grad...)
	num.Axpy(1, b.Grad, sum)

	splitPass(m, a, xa, ya, 13, true)
	splitPass(m, b, xb, yb, 9, true)
	got := make([]float32, len(m.Params))
	chain := make([]float32, len(m.Params))
	inWeights := make([]bool, len(m.Params))
	for _, l := range layers {
		w := m.Layout.Layers[l].Params[0]
		lo, hi := w.Offset, w.Offset+w.Size()
		in := m.Layout.Layers[l].In.Size()
		for i := lo; i < hi; i++ {
			inWeights[i] = true
		}
		// Cuts inside rows and on row boundaries, and a range of one element.
		cuts := []int{lo, lo + 1, lo + in/2, lo + 2*in, lo + 2*in + 3, lo + 5*in - 1, hi}
		for k := 0; k+1 < len(cuts); k++ {
			a.WeightGradRange(l, cuts[k], cuts[k+1], 0, got)
			a.WeightGradRange(l, cuts[k], cuts[k+1], 0, chain)
			b.WeightGradRange(l, cuts[k], cuts[k+1], 1, chain)
		}
	}
	for i := range got {
		if !inWeights[i] { // bias and the rest: what the deferred Backward wrote itself
			if a.Grad[i] != wantA[i] {
				t.Fatalf("element %d outside the weights: %v deferred, %v plain", i, a.Grad[i], wantA[i])
			}
			continue
		}
		for _, c := range []struct {
			name      string
			got, want float32
		}{{"range", got[i], wantA[i]}, {"chain", chain[i], sum[i]}} {
			if exact && c.got != c.want || math.Abs(float64(c.got-c.want)) > 1e-6*(1+math.Abs(float64(c.want))) {
				t.Fatalf("%s: weight gradient element %d = %v, want %v (own kernels: %v)", c.name, i, c.got, c.want, exact)
			}
		}
	}
}

// TestWeightGradRangeNeedsADeferredPass: asking for a weight gradient the
// last Backward computed itself (or of a layer that is not dense) is
// misuse, and panics with a message that says so.
func TestWeightGradRangeNeedsADeferredPass(t *testing.T) {
	m, _ := New[float64](MustParseSpec("4-3:relu-2:softmax"), 1)
	ws := NewWorkspace(m, 2)
	ws.DeferWeightGrad([]int{0})
	x, y := splitRows(m, 2, 3)
	splitPass(m, ws, x, y, 2, false)
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"not deferred", func() { ws.WeightGradRange(0, 0, 4, 0, ws.Grad) }, "did not defer"},
		{"outside the weight", func() {
			splitPass(m, ws, x, y, 2, true)
			ws.WeightGradRange(0, 0, 13, 0, ws.Grad)
		}, "outside layer 0's weight"},
		{"layer not chosen", func() { ws.WeightGradRange(1, 15, 16, 0, ws.Grad) }, "did not defer"},
		{"not dense", func() {
			cm, _ := New[float64](MustParseSpec("1x4x4-conv(2,3)-flatten-2:softmax"), 1)
			NewWorkspace(cm, 1).DeferWeightGrad([]int{0})
		}, "not dense"},
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, c.want) {
					t.Errorf("%s: panic %v, want one that says %q", c.name, r, c.want)
				}
			}()
			c.f()
		}()
	}
}
