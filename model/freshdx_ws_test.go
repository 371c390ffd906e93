package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ptrain/ptrain/model/num"
)

// TestBackwardIntoPoisonedBuffersMatchesFresh: a Workspace whose
// activation gradients and input gradient hold NaN before every Backward,
// and whose scratch and batch-norm sums (among them those a conv leaves
// for the batch norm after it: pass.OutSums) hold NaN before every
// Forward, computes what a fresh
// workspace computes, bit for bit — the parameter gradient accumulated over
// two micro-batches of different sizes and an evaluation pass, and ∂L/∂x. A NaN survives any
// addition, so every part of an input gradient that a layer handed
// pass.FreshDx adds into without clearing, and every sum not cleared, shows.
// The topologies: residual blocks whose input is read by the body and the
// shortcut (the network's input among them), strided 1×1 shortcuts whose
// col2im touches a quarter of the input, padding, kernels larger than
// their stride, odd sizes, dropout, pooling (fused and not), gap, dense
// layers, batch norm first; float32 and float64; with and without AVX2;
// convolutions in groups of one sample and of several.
func TestBackwardIntoPoisonedBuffersMatchesFresh(t *testing.T) {
	specs := []string{
		"3x11x11-conv(5,3,pad=1)-bn:relu:dropout=0.2-res(conv(5,3,pad=1)-bn:relu-conv(5,3,pad=1)-bn):relu-res(conv(6,3,stride=2,pad=1)-bn:relu-conv(6,3,pad=1)-bn|conv(6,1,stride=2)-bn):relu-maxpool(2)-res(conv(6,3,pad=1)-bn):relu-gap-7:relu-4:softmax",
		"4x10x10-res(conv(4,3,pad=1)-bn:relu-conv(4,3,pad=1)-bn):relu-res(conv(3,2,stride=2)-bn|conv(3,1,stride=2)):relu-flatten-4:softmax",
		"3x9x9-conv(4,1,stride=2)-bn:relu-conv(4,3,stride=2)-bn:relu-flatten-4:softmax",
		"3x9x9-bn-conv(4,3,pad=1)-bn:relu-maxpool(2)-conv(4,3):relu-maxpool(2,stride=1)-flatten-5:relu:dropout=0.3-4:softmax",
		"2x7x7-conv(3,5,stride=2,pad=1)-bn-res(conv(3,1)):relu-gap-4:softmax",
		// The passes fused around batch norm (normsum.go, convnorm.go,
		// pass.ReLUBackward): nested blocks, a norm read by a block's
		// body and its sum, dropout between a conv and its norm and after
		// a sum, a norm on each branch, a body ending in a norm with
		// tanh, BatchNorm1d, a conv and norm whose plane is 1×1.
		"3x8x8-conv(4,3,pad=1)-bn-res(res(conv(4,3,pad=1)-bn):relu-conv(4,3,pad=1):dropout=0.2-bn):relu:dropout=0.1-res(conv(4,1)-bn|bn):relu-res(conv(4,3,pad=1)-bn:tanh):relu-gap-4:softmax",
		"7-bn-res(6:relu-7-bn):relu:dropout=0.2-res(7-bn|bn):relu-res(7-bn:relu):relu-4:softmax",
		"2x5x5-conv(3,3,pad=1)-bn:relu-conv(4,5)-bn-flatten-4:softmax",
		// A norm on the block's input, which its sum reads too: the
		// network's input, and a conv that is then not the norm's alone.
		"2x6x6-res(bn):relu-conv(3,3,pad=1)-res(bn):relu-flatten-3:softmax",
	}
	for _, spec := range specs {
		for _, asm := range []bool{false, true} {
			if asm && !haveAVX2 {
				continue
			}
			for _, inGrad := range []bool{false, true} {
				name := fmt.Sprintf("%s/avx2=%v/inputgrad=%v", spec, asm, inGrad)
				t.Run(name+"/float32", func(t *testing.T) { checkPoisoned[float32](t, spec, asm, inGrad) })
				t.Run(name+"/float64", func(t *testing.T) { checkPoisoned[float64](t, spec, asm, inGrad) })
			}
		}
	}
}

func checkPoisoned[T num.Float](t *testing.T, spec string, asm, inGrad bool) {
	defer func(b int, h bool) { convGroupBytes, haveAVX2 = b, h }(convGroupBytes, haveAVX2)
	convGroupBytes, haveAVX2 = 24<<10, asm
	m, err := New[T](MustParseSpec(spec), 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	in, out := m.Spec.Inputs, m.Spec.Outputs()
	sizes := []int{6, 3} // two micro-batches, the second smaller than the workspace
	xs, ys := make([][]T, len(sizes)), make([][]T, len(sizes))
	for b, n := range sizes {
		xs[b], ys[b] = make([]T, n*in), make([]T, n*out)
		for i := range xs[b] {
			xs[b][i] = T(rng.NormFloat64())
		}
		for r := 0; r < n; r++ {
			ys[b][r*out+rng.IntN(out)] = 1
		}
	}
	nan := T(math.NaN())
	poison := func(bufs ...[]T) {
		for _, b := range bufs {
			for i := range b {
				b[i] = nan
			}
		}
	}
	running := append([]T(nil), m.Buffers...)
	run := func(poisoned bool) (grad []T, dxs [][]T) {
		copy(m.Buffers, running) // the evaluation pass reads the running statistics that training moved
		w := NewWorkspace(m, sizes[0])
		if inGrad {
			w.InputGrad = make([]T, sizes[0]*in)
		}
		w.ZeroGrad()
		// The micro-batches, then an evaluation pass and its backward
		// (batch norm's by the running statistics), adding into Grad.
		for b, n := range append(append([]int(nil), sizes...), sizes[0]) {
			train := b < len(sizes)
			if poisoned {
				poison(w.grad...)
				poison(w.scratch...)
				poison(w.InputGrad)
				for _, s := range w.sums {
					for i := range s {
						s[i] = math.NaN()
					}
				}
			}
			if !train {
				b = 0
			}
			w.SetDropoutStream(5, uint64(b), 0)
			w.Forward(xs[b], n, train)
			w.LossGrad(CrossEntropy, ys[b], float64(sizes[0]+sizes[1]))
			if poisoned {
				dLast := &w.grad[len(w.grad)-1][0]
				for _, g := range w.grad {
					if g != nil && &g[0] != dLast { // every buffer but the one LossGrad wrote
						poison(g)
					}
				}
				poison(w.InputGrad) // the scratch is left: pooling keeps its argmax there from Forward to Backward
			}
			w.Backward()
			if inGrad {
				dxs = append(dxs, append([]T(nil), w.InputGrad[:n*in]...))
			}
		}
		return append([]T(nil), w.Grad...), dxs
	}
	wantGrad, wantDx := run(false)
	gotGrad, gotDx := run(true)
	for i := range wantGrad {
		if math.IsNaN(float64(wantGrad[i])) {
			t.Fatalf("Grad[%d] is NaN in a fresh workspace", i)
		}
		if math.Float64bits(float64(gotGrad[i])) != math.Float64bits(float64(wantGrad[i])) {
			t.Fatalf("Grad[%d] = %v with poisoned buffers, %v in a fresh workspace", i, gotGrad[i], wantGrad[i])
		}
	}
	for b := range wantDx {
		for i := range wantDx[b] {
			if math.Float64bits(float64(gotDx[b][i])) != math.Float64bits(float64(wantDx[b][i])) {
				t.Fatalf("micro-batch %d: InputGrad[%d] = %v with poisoned buffers, %v in a fresh workspace", b, i, gotDx[b][i], wantDx[b][i])
			}
		}
	}
}
