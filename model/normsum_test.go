package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ptrain/ptrain/model/num"
)

// TestAffine2AddReLUMatchesSeparatePasses: the residual sum's pass over two
// normalised terms gives the bits of the passes it replaces — each term
// through affinePlane, then addReLU — and with a = 1, b = 0 for a plain
// term those of affinePlane and addReLU on the plain values, −0 among them
// and sums of exactly ±0 included; every length up to a few vectors, with
// and without AVX2.
func TestAffine2AddReLUMatchesSeparatePasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	negZero := float32(math.Copysign(0, -1))
	for _, asm := range []bool{false, true} {
		if asm && !haveAVX2 {
			continue
		}
		func() {
			defer func(h bool) { haveAVX2 = h }(haveAVX2)
			haveAVX2 = asm
			for n := 0; n <= 35; n++ {
				x, y := make([]float32, n), make([]float32, n)
				for i := range x {
					x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
					switch i % 5 {
					case 1:
						y[i] = negZero
					case 2:
						x[i] = negZero
					case 3:
						y[i] = -x[i] // with a plain y, a sum of exactly 0
					}
				}
				ax, bx, ay, by := float32(1.3), float32(-0.25), float32(0.7), float32(0.125)
				zx, zy := make([]float32, n), make([]float32, n)
				want, got := make([]float32, n), make([]float32, n)
				affinePlane(x, zx, ax, bx)
				affinePlane(y, zy, ay, by)
				addReLU(want, zx, zy)
				affine2AddReLU(got, x, y, &[4]float32{ax, bx, ay, by})
				same(t, "two norms", asm, want, got)
				addReLU(want, zx, y)
				affine2AddReLU(got, x, y, &[4]float32{ax, bx, 1, 0})
				same(t, "norm and plain", asm, want, got)
				affinePlane(x, zx, 1, 0)
				for i := range zx { // a plain x and the plain y summing to ±0
					zx[i] = -y[i]
				}
				addReLU(want, zx, y)
				affine2AddReLU(got, zx, y, &[4]float32{1, 0, 1, 0})
				same(t, "plain", asm, want, got)
			}
		}()
	}
}

// TestNormSumTargets: which batch norms a residual sum normalises in its
// own pass — those without activation or dropout that only a sum with a
// ReLU reads.
func TestNormSumTargets(t *testing.T) {
	for _, c := range []struct {
		spec string
		want []int // stack indices
	}{
		// ResNet-8: the identity block's second norm, and both norms
		// ending each projection block.
		{"1x28x28-conv(16,3,pad=1)-bn:relu-res(conv(16,3,pad=1)-bn:relu-conv(16,3,pad=1)-bn):relu-res(conv(32,3,stride=2,pad=1)-bn:relu-conv(32,3,pad=1)-bn|conv(32,1,stride=2)-bn):relu-res(conv(64,3,stride=2,pad=1)-bn:relu-conv(64,3,pad=1)-bn|conv(64,1,stride=2)-bn):relu-gap-10:softmax",
			[]int{5, 10, 12, 17, 19}},
		{"2x6x6-res(conv(2,3,pad=1)-bn):relu-gap-3:softmax", []int{1}},
		{"2x6x6-res(conv(2,3,pad=1)-bn|bn):relu-gap-3:softmax", []int{1, 2}},
		{"2x6x6-res(conv(2,3,pad=1)-bn):tanh-gap-3:softmax", nil}, // the sum has no ReLU to fuse
		{"2x6x6-res(conv(2,3,pad=1)-bn):relu-flatten-3:softmax", []int{1}},
		{"2x6x6-res(conv(2,3,pad=1)-bn:relu):relu-gap-3:softmax", nil},           // the norm has its own ReLU
		{"2x6x6-res(conv(2,3,pad=1)-bn:dropout=0.1):relu-gap-3:softmax", nil},    // dropout after the norm
		{"2x6x6-res(conv(2,3,pad=1)-bn-res(conv(2,1))):relu-gap-3:softmax", nil}, // the inner sum has no ReLU; the outer reads no norm
		{"6-res(4:relu-6-bn):relu-3:softmax", []int{2}},                          // BatchNorm1d
		{"2x6x6-conv(2,3,pad=1)-bn-maxpool(2)-gap-3:softmax", nil},
		// A norm read by a body and two sums (1), nested blocks, dropout
		// between a conv and its norm (5, 6), a body ending in tanh (13).
		{"3x8x8-conv(4,3,pad=1)-bn-res(res(conv(4,3,pad=1)-bn):relu-conv(4,3,pad=1):dropout=0.2-bn):relu:dropout=0.1-res(conv(4,1)-bn|bn):relu-res(conv(4,3,pad=1)-bn:tanh):relu-gap-4:softmax",
			[]int{3, 6, 9, 10}},
		{"2x6x6-res(bn):relu-conv(3,3,pad=1)-res(bn):relu-flatten-3:softmax", []int{0, 3}}, // norms on a block's input
	} {
		m, err := New[float32](MustParseSpec(c.spec), 1)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		w := NewWorkspace(m, 2)
		var got []int
		for l, b := range w.normed {
			if b {
				got = append(got, l)
				if w.Activation(l) != nil {
					t.Errorf("%s: layer %d has an Activation", c.spec, l)
				}
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: norms normalised by their sum %v, want %v", c.spec, got, c.want)
		}
	}
}

// TestNormSumSameBitsAsSeparatePasses: a Workspace that normalises batch
// norms inside their residual sum (fuseNormSums), that lets batch norm
// take its fused ReLU's backward (fuseReLUBackward), or that lets a conv
// compute its output gradient from the batch norm after it
// (fuseConvNormBackward), computes what one running each layer and ReLU
// on its own computes, bit for bit — the outputs of training and
// evaluation passes, the running statistics, the parameter gradient
// accumulated over two micro-batches and an evaluation pass, and ∂L/∂x — for identity and
// projection blocks, a norm on each branch, a BatchNorm1d, dropout after
// the sum; float32 and float64, with and without AVX2, convolutions in
// groups of one sample and of several.
func TestNormSumSameBitsAsSeparatePasses(t *testing.T) {
	specs := []string{
		"3x11x11-conv(5,3,pad=1)-bn:relu-res(conv(5,3,pad=1)-bn:relu-conv(5,3,pad=1)-bn):relu:dropout=0.2-res(conv(6,3,stride=2,pad=1)-bn:relu-conv(6,3,pad=1)-bn|conv(6,1,stride=2)-bn):relu-gap-4:softmax",
		"2x6x6-res(conv(2,3,pad=1)-bn|bn):relu-res(conv(2,3,pad=1)-bn):relu-flatten-3:softmax",
		"6-res(5:relu-6-bn):relu-3:softmax",
		"6-bn:relu-5-bn:relu:dropout=0.3-3:softmax",
		"2x7x7-conv(3,3,stride=2,pad=1)-bn:relu-conv(3,3,pad=1)-bn-conv(3,2)-bn:relu-flatten-3:softmax",
		// Nested blocks, a norm read by a block's body and its sum,
		// dropout between a conv and its norm, a body ending in a norm
		// with tanh, a 1×1 plane.
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
			for _, fusion := range []struct {
				name string
				on   *bool
			}{{"normsum", &fuseNormSums}, {"relubackward", &fuseReLUBackward}, {"convnorm", &fuseConvNormBackward}} {
				name := fmt.Sprintf("%s/%s/avx2=%v", spec, fusion.name, asm)
				t.Run(name+"/float32", func(t *testing.T) { checkNormSum[float32](t, spec, asm, fusion.on) })
				t.Run(name+"/float64", func(t *testing.T) { checkNormSum[float64](t, spec, asm, fusion.on) })
			}
		}
	}
}

func checkNormSum[T num.Float](t *testing.T, spec string, asm bool, fusion *bool) {
	defer func(b int, h, f bool) { convGroupBytes, haveAVX2, *fusion = b, h, f }(convGroupBytes, haveAVX2, *fusion)
	convGroupBytes, haveAVX2 = 24<<10, asm
	rng := rand.New(rand.NewPCG(13, 14))
	sp := MustParseSpec(spec)
	in, out := sp.Inputs, sp.Outputs()
	sizes := []int{6, 3}
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
	run := func(fuse bool) (outs [][]T, running, grad []T, dxs [][]T) {
		*fusion = fuse
		m, err := New[T](sp, 3)
		if err != nil {
			t.Fatal(err)
		}
		w := NewWorkspace(m, sizes[0])
		if !fuseNormSums && slices.Contains(w.normed, true) {
			t.Fatal("fuseNormSums false, and the workspace normalises in a sum")
		}
		w.InputGrad = make([]T, sizes[0]*in)
		w.ZeroGrad()
		for b, n := range sizes {
			w.SetDropoutStream(5, uint64(b), 0)
			outs = append(outs, slices.Clone(w.Forward(xs[b], n, true)))
			w.LossGrad(CrossEntropy, ys[b], float64(sizes[0]+sizes[1]))
			w.Backward()
			dxs = append(dxs, slices.Clone(w.InputGrad[:n*in]))
		}
		// An evaluation pass, and its backward (batch norm's by the
		// running statistics).
		outs = append(outs, slices.Clone(w.Forward(xs[0], sizes[0], false)))
		w.LossGrad(CrossEntropy, ys[0], float64(sizes[0]))
		w.Backward()
		dxs = append(dxs, slices.Clone(w.InputGrad[:sizes[0]*in]))
		return outs, slices.Clone(m.Buffers), slices.Clone(w.Grad), dxs
	}
	wantOut, wantRun, wantGrad, wantDx := run(false)
	gotOut, gotRun, gotGrad, gotDx := run(true)
	cmp := func(what string, want, got []T) {
		t.Helper()
		for i := range want {
			if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
				t.Fatalf("%s[%d] = %v fused, %v layer by layer", what, i, got[i], want[i])
			}
		}
	}
	for b := range wantOut {
		cmp(fmt.Sprintf("pass %d: output", b), wantOut[b], gotOut[b])
	}
	cmp("running statistics", wantRun, gotRun)
	cmp("Grad", wantGrad, gotGrad)
	for b := range wantDx {
		cmp(fmt.Sprintf("micro-batch %d: InputGrad", b), wantDx[b], gotDx[b])
	}
}

// TestReLUMaskPlaneMatchesReLUBackward: batch norm's mask of its output
// gradient, worked out from its input, gives the bits of reluBackward on
// the output that affineReLUPlane writes — −0 in d, and outputs that round
// to ±0, included — float32 and float64, on every length up to a few
// vectors, with and without AVX2.
func TestReLUMaskPlaneMatchesReLUBackward(t *testing.T) {
	for _, asm := range []bool{false, true} {
		if asm && !haveAVX2 {
			continue
		}
		checkReLUMask[float32](t, asm)
		checkReLUMask[float64](t, asm)
	}
}

func checkReLUMask[T num.Float](t *testing.T, asm bool) {
	defer func(h bool) { haveAVX2 = h }(haveAVX2)
	haveAVX2 = asm
	rng := rand.New(rand.NewPCG(15, 16))
	a, b := T(0.5), T(-0.25)
	for n := 0; n <= 35; n++ {
		x, d := make([]T, n), make([]T, n)
		for i := range x {
			x[i], d[i] = T(rng.NormFloat64()), T(rng.NormFloat64())
			switch i % 6 {
			case 1:
				x[i] = 0.5 // x·a + b = +0
			case 2:
				d[i] = T(math.Copysign(0, -1))
			case 4:
				x[i] = T(math.Copysign(0, -1))
			}
		}
		out, want, got := make([]T, n), slices.Clone(d), slices.Clone(d)
		affineReLUPlane(x, out, a, b)
		reluBackward(out, want)
		reluMaskPlane(x, got, a, b)
		for i := range want {
			if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
				t.Fatalf("%T, AVX2 %v, n %d: [%d] = %v, want %v", got[i], asm, n, i, got[i], want[i])
			}
		}
	}
}

// TestAddActivityKeptInPassingMatchesThePlanes: for a batch norm with its
// ReLU fused, whose Forward adds up the activation per channel as it
// writes it (pass.ActSums), AddActivity reports what summing each plane of
// Activation in row order gives, bit for bit from zero, and adds it to
// what sums held; a residual sum that normalises its norms keeps no sums
// (nothing asks for them) and AddActivity reads its stored output to the
// same result; float32, with and without AVX2, after a training and an
// evaluation pass.
func TestAddActivityKeptInPassingMatchesThePlanes(t *testing.T) {
	const spec = "3x9x9-conv(4,3,pad=1)-bn:relu-res(conv(4,3,pad=1)-bn:relu-conv(4,3,pad=1)-bn):relu-res(conv(5,3,stride=2,pad=1)-bn|conv(5,1,stride=2)-bn):relu-gap-6-bn:relu-3:softmax"
	m, err := New[float32](MustParseSpec(spec), 5)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(17, 18))
	const n = 4
	x := make([]float32, n*m.Spec.Inputs)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for _, asm := range []bool{false, true} {
		if asm && !haveAVX2 {
			continue
		}
		func() {
			defer func(h bool) { haveAVX2 = h }(haveAVX2)
			haveAVX2 = asm
			w := NewWorkspace(m, n)
			kept := 0
			for _, train := range []bool{true, false} {
				w.Forward(x, n, train)
				for l := range m.stack {
					_, isSum := m.stack[l].(*sum[float32])
					if isSum && w.unitSum[l] != nil {
						t.Fatalf("layer %d, a residual sum, keeps activation sums nothing reads", l)
					}
					if !w.keepsActSums(l) && !isSum {
						continue
					}
					if !isSum {
						kept++
					}
					info := m.stack[l].Info()
					units := info.Out[0]
					pos := info.Out.Size() / units
					a := w.Activation(l)
					want := make([]float32, units)
					for r := 0; r < n; r++ {
						for u := range units {
							o := (r*units + u) * pos
							want[u] += sum4(a[o : o+pos])
						}
					}
					got := make([]float32, units)
					w.AddActivity(l, got)
					if isSum { // read from the output plane by plane: want's order, once
						for u := range want {
							if got[u] != want[u] {
								t.Fatalf("AVX2 %v, train %v, layer %d unit %d: AddActivity gives %v, want %v", asm, train, l, u, got[u], want[u])
							}
						}
						continue
					}
					w.AddActivity(l, got)
					for u := range want {
						if got[u] != 2*want[u] {
							t.Fatalf("AVX2 %v, train %v, layer %d unit %d: AddActivity twice gives %v, want 2×%v", asm, train, l, u, got[u], want[u])
						}
					}
				}
			}
			if kept != 2*3 { // the 3 norms with a ReLU (the flat one among them)
				t.Fatalf("%d layers keep their activation sums, want 3 per pass", kept/2)
			}
		}()
	}
}
