package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ptrain/ptrain/model/num"
)

// TestWhichLayersFuse: the layers that make a fused stage with the max
// pooling after them, and those that must not.
func TestWhichLayersFuse(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		fused []int // the first layers of the stages
	}{
		{"1x8x8-conv(2,3):relu-maxpool(2)-flatten-3", []int{0}},
		{"1x8x8-conv(2,3)-maxpool(3,stride=1)-flatten-3", []int{0}},
		{"1x8x8-conv(2,3):tanh-maxpool(2)-flatten-3", nil},
		{"1x8x8-conv(2,3):relu:dropout=0.1-maxpool(2)-flatten-3", nil},
		{"1x8x8-conv(2,3):relu-avgpool(2)-flatten-3", nil},
		{"1x8x8-conv(2,3)-bn:relu-maxpool(2)-flatten-3", []int{1}},
		{"1x8x8-conv(2,3)-bn-maxpool(3)-flatten-3", []int{1}},
		{"1x8x8-conv(2,3)-bn:relu-maxpool(2,stride=1)-flatten-3", nil}, // overlapping windows
		{"1x8x8-conv(2,3)-bn:sigmoid-maxpool(2)-flatten-3", nil},
		{"1x8x8-conv(2,3)-bn:relu:dropout=0.2-maxpool(2)-flatten-3", nil},
		{"1x8x8-bn:relu-maxpool(2)-conv(2,2):relu-maxpool(2)-flatten-3", []int{0, 2}},
		{"1x8x8-flatten-bn-3", nil},
	} {
		m, err := New[float64](MustParseSpec(tc.spec), 1)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for l, f := range NewWorkspace(m, 2).stage {
			if f != nil {
				got = append(got, l)
			}
		}
		if !slices.Equal(got, tc.fused) {
			t.Errorf("%s: fused stages at %v, want %v", tc.spec, got, tc.fused)
		}
	}
}

// TestFusedNormPoolWithAnyAffineMap: batch norm fused with its pooling
// against the layers, with γ, β and running statistics drawn at random
// (negative scales turn which input is largest around), batch norm first
// (its input gradient is the network's) or after a convolution, on odd
// planes, in training and evaluation passes, float64 and float32.
func TestFusedNormPoolWithAnyAffineMap(t *testing.T) {
	t.Run("float64", func(t *testing.T) { fusedNormAnyAffine[float64](t, 1e-9) })
	t.Run("float32", func(t *testing.T) { fusedNormAnyAffine[float32](t, 1e-4) })
}

func fusedNormAnyAffine[T num.Float](t *testing.T, tol float64) {
	for _, spec := range []string{
		"2x9x9-conv(3,2)-bn:relu-maxpool(2)-flatten-3:softmax",
		"2x11x10-conv(3,2)-bn-maxpool(3)-flatten-3:softmax",
		"3x9x11-bn:relu-maxpool(2)-flatten-3:softmax",
		"3x19x21-bn-maxpool(2)-flatten-3:softmax",
	} {
		sp := MustParseSpec(spec)
		m, _ := New[T](sp, 3)
		rng := rand.New(rand.NewPCG(1, 2))
		bi := 1
		if sp.Layers[0].Kind == KindBatchNorm {
			bi = 0
		}
		bn := m.Layout.Layers[bi]
		for ch := 0; ch < bn.In[0]; ch++ {
			m.Params[bn.Params[0].Offset+ch] = T(rng.NormFloat64())
			m.Params[bn.Params[1].Offset+ch] = T(rng.NormFloat64())
			m.Buffers[bn.Buffers[0].Offset+ch] = T(rng.NormFloat64())
			m.Buffers[bn.Buffers[1].Offset+ch] = T(0.5 + rng.Float64())
		}
		const n = 4
		x64, y64 := randomBatch(rng, n, sp.Inputs, sp.Outputs(), CrossEntropy)
		x, y := make([]T, len(x64)), make([]T, len(y64))
		for i := range x {
			x[i] = T(x64[i])
		}
		for i := range y {
			y[i] = T(y64[i])
		}
		bufs := slices.Clone(m.Buffers)
		for _, train := range []bool{true, false} {
			var out, dx, grad [2][]T
			for k, fuse := range []bool{false, true} {
				copy(m.Buffers, bufs)
				var ws *Workspace[T]
				out[k], dx[k], ws = passBothWays(t, m, x, y, n, fuse, train)
				grad[k] = ws.Grad
			}
			for i := range out[0] {
				if math.Float64bits(float64(out[0][i])) != math.Float64bits(float64(out[1][i])) {
					t.Fatalf("%s, train %v: output %d is %v fused, %v by the layers", spec, train, i, out[1][i], out[0][i])
				}
			}
			for i := range dx[0] {
				a, b := float64(dx[0][i]), float64(dx[1][i])
				if !train && math.Float64bits(a) != math.Float64bits(b) || !(math.Abs(a-b) <= tol*(1e-6+math.Abs(a))) {
					t.Fatalf("%s, train %v: input gradient %d is %v fused, %v by the layers", spec, train, i, b, a)
				}
			}
			for i := range grad[0] {
				// A conv bias right before batch norm has a gradient of 0
				// in exact arithmetic: its rounding noise is compared
				// to the scale of the other gradients.
				a, b := float64(grad[0][i]), float64(grad[1][i])
				if !(math.Abs(a-b) <= tol*(1e-6+math.Abs(a))) {
					t.Fatalf("%s, train %v: gradient of %s is %v fused, %v by the layers", spec, train, m.ParamName(i), b, a)
				}
			}
		}
	}
}

// passBothWays runs one forward and backward pass of n rows, with the
// layers fused or not, and returns the output, ∂L/∂x and the workspace.
func passBothWays[T num.Float](t *testing.T, m *Model[T], x, y []T, n int, fuse, train bool) (out, dx []T, ws *Workspace[T]) {
	t.Helper()
	defer func(f bool) { fuseStages = f }(fuseStages)
	fuseStages = fuse
	ws = NewWorkspace(m, max(n, 1))
	if got := slices.ContainsFunc(ws.stage, func(f fused[T]) bool { return f != nil }); got != fuse {
		t.Fatalf("fused: %v, want %v", got, fuse)
	}
	ws.InputGrad = make([]T, len(x))
	ws.ZeroGrad()
	out = slices.Clone(ws.Forward(x, n, train))
	ws.LossGrad(CrossEntropy, y, float64(max(n, 1)))
	ws.Backward()
	return out, ws.InputGrad, ws
}

// TestFusedNormPoolSyncsAsTheLayer: every part of a batch must call Sync
// as often as the others, whichever way it runs batch norm, also with no
// rows; and an empty batch leaves the running statistics and the
// gradient as they were.
func TestFusedNormPoolSyncsAsTheLayer(t *testing.T) {
	sp := MustParseSpec("2x9x9-conv(3,2)-bn:relu-maxpool(2)-flatten-3:softmax")
	for _, n := range []int{0, 3} {
		var calls [2][]int
		var buffers [2][]float64
		for k, fuse := range []bool{false, true} {
			m, _ := New[float64](sp, 3)
			rng := rand.New(rand.NewPCG(1, 2))
			x, y := randomBatch(rng, n, sp.Inputs, sp.Outputs(), CrossEntropy)
			defer func(f bool) { fuseStages = f }(fuseStages)
			fuseStages = fuse
			ws := NewWorkspace(m, 3)
			ws.Sync = func(v []float64) {
				calls[k] = append(calls[k], len(v))
				if len(calls[k]) == 1 { // another part holds 8 rows of zeros
					v[0] += 8 * 64
				}
			}
			ws.ZeroGrad()
			ws.Forward(x, n, true)
			ws.LossGrad(CrossEntropy, y, 8)
			ws.Backward()
			buffers[k] = m.Buffers
			if n == 0 && slices.ContainsFunc(ws.Grad, func(g float64) bool { return g != 0 }) {
				t.Errorf("fused %v: a gradient from no rows", fuse)
			}
		}
		if !slices.Equal(calls[0], calls[1]) || len(calls[0]) == 0 {
			t.Errorf("%d rows: Sync called with %v by the layers, %v fused", n, calls[0], calls[1])
		}
		if !slices.Equal(buffers[0], buffers[1]) {
			t.Errorf("%d rows: running statistics %v by the layers, %v fused", n, buffers[0], buffers[1])
		}
	}
	m, _ := New[float64](MustParseSpec("1x6x6-conv(2,3,pad=1)-bn-maxpool(3)-flatten-3:softmax"), 1)
	before := slices.Clone(m.Buffers)
	ws := NewWorkspace(m, 4)
	ws.ZeroGrad()
	ws.Forward(nil, 0, true)
	ws.LossGrad(CrossEntropy, nil, 1)
	ws.Backward()
	if !slices.Equal(m.Buffers, before) || slices.ContainsFunc(ws.Grad, func(g float64) bool { return g != 0 }) {
		t.Fatalf("an empty batch moved the running statistics (%v, were %v) or left a gradient", m.Buffers, before)
	}
}
