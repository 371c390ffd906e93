package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ptrain/ptrain/model/gradcheck"
	"github.com/ptrain/ptrain/model/num"
)

// fusedSpecs have convolutions and batch norms that the workspace fuses
// with the max pooling after them: the 2×2 path on even and odd planes (a
// last row and column in no window), 'same', 'valid' (wide) and strided
// convolutions, no activation, and the general path (with overlapping
// windows for a convolution, 3×3 for batch norm).
var fusedSpecs = append([]string{
	"1x8x8-conv(3,3,pad=1):relu-maxpool(2)-flatten-3:softmax",
	"2x9x9-conv(3,3):relu-maxpool(2)-conv(4,2)-maxpool(2)-flatten-3:softmax",
	"2x11x10-conv(3,3,stride=2,pad=1):relu-maxpool(2):tanh-flatten-3:softmax",
	"1x12x12-conv(2,3):relu-maxpool(3,stride=2)-conv(3,2,pad=1):relu-maxpool(2,stride=1)-flatten-3:softmax",
	"3x10x10-conv(4,3,pad=1)-maxpool(2):relu-flatten-bn-3:softmax",
}, normSpecs...)

// normSpecs fuse batch norms with their pooling: ReLU and none, 2×2 and
// 3×3 windows, and a pooling with overlapping windows that is not fused.
var normSpecs = []string{
	"3x8x8-conv(4,3,pad=1)-bn:relu-maxpool(2)-flatten-3:softmax",
	"2x11x11-conv(3,2)-bn-maxpool(2)-conv(2,2)-bn:relu-maxpool(3)-flatten-3:softmax",
	"1x9x9-conv(3,3)-bn:relu-maxpool(2)-conv(2,2,pad=1)-bn:relu-maxpool(2,stride=1)-flatten-3:softmax",
}

// TestFusedConvPoolGradients checks networks whose convolutions run fused
// with their pooling against central differences, parameters and input.
func TestFusedConvPoolGradients(t *testing.T) {
	for _, spec := range fusedSpecs {
		t.Run(spec, func(t *testing.T) {
			sp := MustParseSpec(spec)
			m, err := New[float64](sp, 3)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(4, 5))
			for i := range m.Params {
				m.Params[i] += 0.1 * rng.NormFloat64()
			}
			const n = 4
			x, y := randomBatch(rng, n, sp.Inputs, sp.Outputs(), CrossEntropy)
			ws, f := analytic(m, x, y, n, CrossEntropy, 1, true)
			if !slices.ContainsFunc(ws.stage, func(f fused[float64]) bool { return f != nil }) {
				t.Fatal("nothing is fused")
			}
			if r := gradcheck.Check(m.Params, ws.Grad, f, 1e-5); r.MaxRelErr > 1e-6 {
				t.Errorf("parameters: %v", r)
			}
			if r := gradcheck.Check(x, ws.InputGrad, f, 1e-5); r.MaxRelErr > 1e-6 {
				t.Errorf("input: %v", r)
			}
		})
	}
}

// TestFusedConvPoolMatchesTheLayers: the fused stage computes what the
// convolution, its ReLU and the max pooling compute one by one — the same
// outputs and the same input and weight gradients (the bias gradient is
// summed in another order) and the same activity — in float64, and in
// float32 with and without the assembly, with the rows in one sample
// group and in groups of one sample. A channel with a bias of −100 is dead
// either way.
func TestFusedConvPoolMatchesTheLayers(t *testing.T) {
	defer func(b int) { convGroupBytes = b }(convGroupBytes)
	for _, gb := range []int{convGroupBytes, 1} {
		convGroupBytes = gb
		for _, spec := range fusedSpecs {
			t.Run(fmt.Sprintf("%s/groups=%d/float64", spec, gb), func(t *testing.T) { fusedMatchesLayers[float64](t, spec, 1e-12) })
			for _, asm := range []bool{false, true} {
				if asm && !haveAVX2 {
					continue
				}
				t.Run(fmt.Sprintf("%s/groups=%d/float32/asm=%v", spec, gb, asm), func(t *testing.T) {
					defer func(h bool) { haveAVX2 = h }(haveAVX2)
					haveAVX2 = asm
					fusedMatchesLayers[float32](t, spec, 1e-5)
				})
			}
		}
	}
}

func fusedMatchesLayers[T num.Float](t *testing.T, spec string, tol float64) {
	sp := MustParseSpec(spec)
	m, err := New[T](sp, 9)
	if err != nil {
		t.Fatal(err)
	}
	m.Params[m.Layout.Layers[0].Params[1].Offset] = -100 // conv.0's first channel: dead
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 5
	x64, y64 := randomBatch(rng, n, sp.Inputs, sp.Outputs(), CrossEntropy)
	x, y := make([]T, len(x64)), make([]T, len(y64))
	for i := range x64 {
		x[i] = T(x64[i])
	}
	for i := range y64 {
		y[i] = T(y64[i])
	}
	buffers := slices.Clone(m.Buffers)
	run := func(fuse, train bool) (out, dx []T, ws *Workspace[T]) {
		copy(m.Buffers, buffers) // a training pass moves the running statistics
		return passBothWays(t, m, x, y, n, fuse, train)
	}
	o1, dx1, ws1 := run(false, true)
	o2, dx2, ws2 := run(true, true)
	for i := range o1 {
		if o1[i] != o2[i] {
			t.Fatalf("output %d: fused %v, layers %v", i, o2[i], o1[i])
		}
	}
	close := func(what string, a, b []T) {
		t.Helper()
		for i := range a {
			if d := math.Abs(float64(a[i] - b[i])); !(d <= tol*(1+math.Abs(float64(a[i])))) { // a NaN fails
				t.Fatalf("%s %d: fused %v, layers %v", what, i, b[i], a[i])
			}
		}
	}
	close("input gradient", dx1, dx2)
	close("gradient", ws1.Grad, ws2.Grad)
	// An evaluation pass (running statistics) backward too.
	e1, edx1, ews1 := run(false, false)
	e2, edx2, ews2 := run(true, false)
	close("evaluation output", e1, e2)
	close("evaluation input gradient", edx1, edx2)
	close("evaluation gradient", ews1.Grad, ews2.Grad)
	for l, info := range m.Layout.Layers {
		// Activity is read for ReLU layers (dead units), where a sum is
		// zero exactly when every term is; a layer without an activation
		// (batch norm's output sums to about 0 per channel) only rounds.
		if info.Spec.Kind != KindConv && info.Spec.Kind != KindBatchNorm || info.Spec.Act.Kind != ReLU {
			continue
		}
		s1, s2 := make([]T, info.Out[0]), make([]T, info.Out[0])
		ws1.AddActivity(l, s1)
		ws2.AddActivity(l, s2)
		close(fmt.Sprintf("activity of layer %d", l), s1, s2)
		for u := range s1 {
			if (s1[u] == 0) != (s2[u] == 0) {
				t.Fatalf("layer %d unit %d: activity %v fused, %v by the layers", l, u, s2[u], s1[u])
			}
		}
		if l == 0 && s2[0] != 0 {
			t.Fatalf("the dead channel's activity is %v", s2[0])
		}
	}
}

// TestPool2PlaneAVXMatchesGo: the assembly's 2×2 pooling picks the same
// input as the Go loop — the first largest, the first NaN — on windows
// full of ties, signed zeros, infinities and NaNs, with and without the
// ReLU; the outputs agree up to the sign of zero. Its backward writes the
// same bits as the Go scatter.
func TestPool2PlaneAVXMatchesGo(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2")
	}
	defer func(h bool) { haveAVX2 = h }(haveAVX2)
	nan := float32(math.NaN())
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, 1, -2, 3, float32(math.Inf(1)), float32(math.Inf(-1)), nan}
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 400; trial++ {
		pw := 1 + rng.IntN(13)
		ww := 2*pw + rng.IntN(5) // columns past 2·pw are in no window
		ph := 1 + rng.IntN(3)
		plane := make([]float32, 2*ph*ww)
		for i := range plane {
			if trial%2 == 0 || rng.IntN(8) == 0 {
				plane[i] = vals[rng.IntN(len(vals)-1)] // no NaN on half of the trials: the vector loop then runs to the end
			} else {
				plane[i] = vals[rng.IntN(len(vals))]
			}
		}
		b, relu := float32(rng.IntN(3)-1), rng.IntN(2) == 0
		sc := []float32{1, 0.5, -2}[rng.IntN(3)] // exact products: the Go loop and the assembly round alike
		var out, id, sum, d [2][]float32
		var gsum [2]float32
		g := make([]float32, ph*pw)
		for i := range g {
			g[i] = []float32{1, -2, 0.5, float32(math.Copysign(0, -1)), nan}[rng.IntN(5)]
		}
		for k, asm := range []bool{false, true} {
			haveAVX2 = asm
			out[k], id[k] = make([]float32, ph*pw), make([]float32, ph*pw)
			sum[k] = []float32{poolPlane2(plane, out[k], id[k], sc, b, ww, pw, relu)}
			d[k] = make([]float32, len(plane))
			gsum[k] = unpoolPlane2(g, out[0], id[0], d[k], ww, pw, relu)
		}
		for i := range d[0] {
			if math.Float32bits(d[0][i]) != math.Float32bits(d[1][i]) {
				t.Fatalf("gradient %v onto outputs %v (relu %v), input %d: Go %v, assembly %v", g, out[0], relu, i, d[0][i], d[1][i])
			}
		}
		if s, a := gsum[0], gsum[1]; !sameSum(s, a) {
			t.Fatalf("gradient %v: sum %v in Go, %v in assembly", g, s, a)
		}
		for q := range out[0] {
			g, a := out[0][q], out[1][q]
			if id[0][q] != id[1][q] || !(g == a || g != g && a != a) {
				t.Fatalf("plane %v (width %d, bias %v, relu %v), window %d: Go takes %v at %v, assembly %v at %v",
					plane, ww, b, relu, q, g, id[0][q], a, id[1][q])
			}
		}
		if s, a := sum[0][0], sum[1][0]; !sameSum(s, a) {
			t.Fatalf("plane %v: activity %v in Go, %v in assembly", plane, s, a)
		}
	}
}

// sameSum says whether two sums of the same terms in different orders
// agree: both NaN, the same infinity, or within rounding.
func sameSum(s, a float32) bool {
	switch {
	case s != s || a != a:
		return s != s && a != a
	case math.IsInf(float64(s), 0) || math.IsInf(float64(a), 0):
		return s == a
	}
	return math.Abs(float64(s-a)) <= 1e-6*(1+math.Abs(float64(s)))
}
