package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestStepSameBitsWithAndWithoutAVX2: a whole training step through the
// fast paths (masked same-padding im2col, gathers, stride-2 shuffles and
// their adjoints, fused batch-norm and residual ReLUs, the bias gradient's
// plane sums) gives the bits of the Go loops: outputs, every parameter's
// gradient after two accumulated backward passes (as with Accum > 1), and
// the input gradient, in a net where dropout puts −0 into gradients and
// where a residual block's input gradient is summed from two readers —
// the case that the stride-2 col2im's "+0 added beside the span" argument
// rests on (every input gradient is summed from a cleared +0), with
// InputGrad starting out full of −0.
func TestStepSameBitsWithAndWithoutAVX2(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2: nothing to compare")
	}
	const spec = "3x13x11-conv(4,3,pad=1)-bn:relu:dropout=0.3" +
		"-res(conv(4,3,stride=2,pad=1)-bn:relu-conv(4,3,pad=1)-bn|conv(4,1,stride=2)):relu" +
		"-res(conv(4,5,pad=2)-bn:relu:dropout=0.2-conv(4,3,stride=3,pad=2)-bn|conv(4,3,stride=3,pad=2)):relu-gap-3:softmax"
	const n = 5
	rng := rand.New(rand.NewPCG(31, 32))
	sp := MustParseSpec(spec)
	m, err := New[float32](sp, 7)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n*sp.Inputs)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]float32, n*3)
	for r := 0; r < n; r++ {
		y[r*3+rng.IntN(3)] = 1
	}
	run := func(asm bool) (out, grad, dx []float32) {
		defer func(h bool) { haveAVX2 = h }(haveAVX2)
		haveAVX2 = asm
		ws := NewWorkspace(m, n)
		ws.InputGrad = make([]float32, len(x))
		for i := range ws.InputGrad {
			ws.InputGrad[i] = float32(math.Copysign(0, -1))
		}
		ws.ZeroGrad()
		for range 2 {
			out = slices.Clone(ws.Forward(x, n, true))
			ws.LossGrad(CrossEntropy, y, 2*n)
			ws.Backward()
		}
		return out, ws.Grad, ws.InputGrad
	}
	out0, g0, dx0 := run(false)
	out1, g1, dx1 := run(true)
	for _, c := range []struct {
		what      string
		want, got []float32
	}{{"output", out0, out1}, {"Grad", g0, g1}, {"InputGrad", dx0, dx1}} {
		for i := range c.want {
			if math.Float32bits(c.want[i]) != math.Float32bits(c.got[i]) {
				t.Fatalf("%s[%d] = %v with AVX2, %v with the Go loops", c.what, i, c.got[i], c.want[i])
			}
		}
	}
}
