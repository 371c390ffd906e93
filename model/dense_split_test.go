package model

import (
	"math"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model/num"
)

// splitRows returns n rows of inputs and one-hot targets for m.
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

// pass runs one training pass of ws over n rows from ResetGrad, with the
// dropout masks of rows rowBase… of a batch of 22.
func splitPass[T num.Float](ws *Workspace[T], x, y []T, n, rowBase int) {
	ws.SetDropoutStream(1, 2, rowBase)
	ws.ResetGrad()
	ws.Forward(x, n, true)
	ws.LossGrad(CrossEntropy, y, 22)
	ws.Backward()
}

// TestWeightGradIsTheProduct: two workspaces run 13 and 9 rows of a batch
// of 22 with every dense layer deferred into shared buffers, their rows
// one after the other. Their other gradients are as without deferring,
// bit for bit; WeightGrad over any ranges — pieces of rows, whole rows —
// of all 22 rows gives the weight gradient of one workspace's Backward over
// the 22 rows; and over the first 13 rows (beta = 0) and then the other 9
// (beta = 1), the two workspaces' weight gradients added. Bit for bit on
// ptrain's own kernels, within rounding elsewhere.
func TestWeightGradIsTheProduct(t *testing.T) {
	m, err := New[float32](MustParseSpec("37-23:relu:dropout=0.2-11:tanh-5:softmax"), 4)
	if err != nil {
		t.Fatal(err)
	}
	exact := num.OwnKernels()
	x, y := splitRows(m, 22, 1)
	in, out := m.Spec.Inputs, m.Spec.Outputs()
	whole, a, b := NewWorkspace(m, 22), NewWorkspace(m, 13), NewWorkspace(m, 13)
	splitPass(whole, x, y, 22, 0)
	splitPass(a, x[:13*in], y[:13*out], 13, 0)
	splitPass(b, x[13*in:], y[13*out:], 9, 13)
	plainA := append([]float32(nil), a.Grad...)
	sum := append([]float32(nil), a.Grad...)
	num.Axpy(1, b.Grad, sum)

	xs, dzs := make([][]float32, 3), make([][]float32, 3)
	for l, info := range m.Layout.Layers {
		xs[l], dzs[l] = make([]float32, 22*info.In[0]), make([]float32, 22*info.Out[0])
		a.DeferWeightGrad(l, xs[l][:13*info.In[0]], dzs[l][:13*info.Out[0]])
		b.DeferWeightGrad(l, xs[l][13*info.In[0]:], dzs[l][13*info.Out[0]:])
	}
	copy(xs[0], x)
	splitPass(a, xs[0][:13*in], y[:13*out], 13, 0) // the input in place: no copy
	splitPass(b, xs[0][13*in:], y[13*out:], 9, 13)
	if xs[0][5] != x[5] || xs[0][20*in+3] != x[20*in+3] {
		t.Fatal("the deferred pass changed its input")
	}

	got, chain := make([]float32, len(m.Params)), make([]float32, len(m.Params))
	inWeights := make([]bool, len(m.Params))
	for l := range m.Layout.Layers {
		info := &m.Layout.Layers[l]
		w := info.Params[0]
		lo, hi, n := w.Offset, w.Offset+w.Size(), info.In[0]
		for i := lo; i < hi; i++ {
			inWeights[i] = true
		}
		cuts := []int{lo, lo + 1, lo + n/2, lo + 2*n, lo + 2*n + 3, lo + 5*n - 1, hi}
		for k := 0; k+1 < len(cuts); k++ {
			WeightGrad(info, xs[l], dzs[l], 22, cuts[k], cuts[k+1], 0, got)
			WeightGrad(info, xs[l], dzs[l], 13, cuts[k], cuts[k+1], 0, chain)
			WeightGrad(info, xs[l][13*n:], dzs[l][13*info.Out[0]:], 9, cuts[k], cuts[k+1], 1, chain)
		}
	}
	for i := range got {
		if !inWeights[i] { // biases: what the deferred Backward wrote itself
			if a.Grad[i] != plainA[i] {
				t.Fatalf("element %d outside the weights: %v deferred, %v plain", i, a.Grad[i], plainA[i])
			}
			continue
		}
		for _, c := range []struct {
			name      string
			got, want float32
		}{{"all rows", got[i], whole.Grad[i]}, {"two parts", chain[i], sum[i]}} {
			if exact && c.got != c.want || math.Abs(float64(c.got-c.want)) > 1e-6*(1+math.Abs(float64(c.want))) {
				t.Fatalf("%s: weight gradient element %d = %v, want %v (own kernels: %v)", c.name, i, c.got, c.want, exact)
			}
		}
	}
}

// TestWeightGradMisuse: deferring a layer that is not dense, and asking
// WeightGrad for elements outside a dense weight or of another layer,
// panic with a message that says so.
func TestWeightGradMisuse(t *testing.T) {
	m, _ := New[float64](MustParseSpec("1x4x4-conv(2,3)-flatten-2:softmax"), 1)
	buf := make([]float64, len(m.Params))
	dense := &m.Layout.Layers[2]
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"defer a conv", func() { NewWorkspace(m, 1).DeferWeightGrad(0, nil, nil) }, "not dense"},
		{"outside the weight", func() {
			WeightGrad(dense, make([]float64, 8), make([]float64, 2), 1, dense.Params[0].Offset, dense.Params[0].Offset+17, 0, buf)
		}, "outside dense.0's weight"},
		{"a conv", func() { WeightGrad(&m.Layout.Layers[0], nil, nil, 1, 0, 1, 0, buf) }, "not a dense layer"},
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
