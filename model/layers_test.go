package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ptrain/ptrain/model/num"
)

// TestLayerGradients checks every layer kind's parameter and input
// gradients against central differences in float64.
func TestLayerGradients(t *testing.T) {
	type tc struct {
		in    Shape
		layer string
	}
	var cases []tc
	for _, k := range []int{1, 3, 5} {
		for _, pad := range []int{0, 1, 2} {
			for _, stride := range []int{1, 2} {
				for _, ch := range [][2]int{{1, 2}, {3, 4}} {
					if 2*pad >= k+1 && k == 1 {
						continue // a 1x1 kernel over padding sees only zeros there: allowed, but pointless
					}
					cases = append(cases, tc{Shape{ch[0], 7, 6}, fmt.Sprintf("conv(%d,%d,stride=%d,pad=%d)", ch[1], k, stride, pad)})
				}
			}
		}
	}
	cases = append(cases,
		tc{Shape{2, 6, 6}, "conv(3,3,pad=1):relu"},
		tc{Shape{3, 6, 7}, "maxpool(2)"},
		tc{Shape{3, 7, 7}, "maxpool(3,stride=2)"},
		tc{Shape{3, 6, 7}, "avgpool(2)"},
		tc{Shape{2, 7, 7}, "avgpool(3,stride=1)"},
		tc{Shape{3, 4, 5}, "bn"},
		tc{Shape{3, 4, 5}, "bn:relu"},
		tc{Shape{6}, "bn"},
		tc{Shape{6}, "bn:sigmoid"},
		tc{Shape{2, 3, 4}, "flatten"},
		tc{Shape{5}, "4:tanh"},
	)
	for _, c := range cases {
		name := c.in.String() + "-" + c.layer
		t.Run(name, func(t *testing.T) {
			sp, err := ParseSpec(name)
			if err != nil {
				t.Fatal(err)
			}
			p, in, err := CheckLayer(c.in, sp.Layers[0], 4, 3)
			if err != nil {
				t.Fatal(err)
			}
			if p.MaxRelErr > 1e-6 {
				t.Errorf("parameters: %v", p)
			}
			if in.MaxRelErr > 1e-6 {
				t.Errorf("input: %v", in)
			}
		})
	}
}

// skewed is a layer whose Backward is off by 0.1% in one element of each
// product.
type skewed struct{ layer[float64] }

func (s skewed) Backward(p *pass[float64], x, dz, dx []float64) {
	s.layer.Backward(p, x, dz, dx)
	dx[len(dx)/2] *= 1.001
	p.Grad[len(p.Grad)/2] *= 1.001
}

// TestConvGroupsOfSamples checks conv with every sample in a group of its
// own and in uneven groups (convGroupBytes sets how many share a GEMM).
func TestConvGroupsOfSamples(t *testing.T) {
	defer func(b int) { convGroupBytes = b }(convGroupBytes)
	for _, spec := range []string{"2x5x5-conv(4,3,pad=1)", "2x5x6-conv(4,3)", "2x6x6-conv(4,3,stride=2,pad=1)"} {
		for _, b := range []int{1, 3 * (18 + 4) * 30 * 8} { // one sample, about three
			convGroupBytes = b
			sp := MustParseSpec(spec)
			p, in, err := CheckLayer(Shape(sp.Shape), sp.Layers[0], 7, 2)
			if err != nil {
				t.Fatal(err)
			}
			if p.MaxRelErr > 1e-6 || in.MaxRelErr > 1e-6 {
				t.Errorf("%s, groups of %d bytes: parameters %v, input %v", spec, b, p, in)
			}
		}
	}
}

// TestLayerCheckFailsOnWrongGradient shows the check can fail, on either
// product.
func TestLayerCheckFailsOnWrongGradient(t *testing.T) {
	m, _ := NewZero[float64](MustParseSpec("2x5x5-conv(3,3,pad=1)"))
	m.stack[0] = skewed{m.stack[0]}
	p, in := checkLayer(m, 2, 1)
	if p.MaxRelErr < 1e-4 || in.MaxRelErr < 1e-4 {
		t.Fatalf("a layer off by 0.1%% passed: parameters %v, input %v", p, in)
	}
}

// TestCNNGradients checks whole convolutional networks, batch norm and
// dropout included, under each loss.
func TestCNNGradients(t *testing.T) {
	for _, tc := range []struct {
		spec string
		loss Loss
	}{
		{"1x8x8-conv(3,3,pad=1)-bn:relu-maxpool(2)-conv(4,3)-bn:tanh-flatten-5:relu-3:softmax", CrossEntropy},
		{"2x7x7-conv(3,3,stride=2):leakyrelu-avgpool(2)-flatten-bn-2:sigmoid", BCE},
		{"1x6x6-conv(2,5,pad=2):relu:dropout=0.2-flatten-4:relu-bn-2", MSE},
	} {
		t.Run(tc.spec, func(t *testing.T) { checkModel(t, tc.spec, tc.loss, 5) })
	}
}

// TestMaxPool2MatchesTheGeneralLoop: the 2×2 fast path picks the same
// input as the general loop — the first largest, the first NaN — on
// windows full of ties, signed zeros and NaNs.
func TestMaxPool2MatchesTheGeneralLoop(t *testing.T) {
	nan := math.NaN()
	vals := []float64{0, math.Copysign(0, -1), 1, 1, -2, nan, math.Inf(1), math.Inf(-1)}
	rng := rand.New(rand.NewPCG(5, 6))
	const h, w = 6, 7 // an odd width: the last column belongs to no window
	for trial := 0; trial < 200; trial++ {
		x := make([]float64, 2*h*w)
		for i := range x {
			x[i] = vals[rng.IntN(len(vals))]
		}
		z1, z2 := make([]float64, 2*3*3), make([]float64, 2*3*3)
		i1, i2 := make([]float64, len(z1)), make([]float64, len(z2))
		maxPool2(x, z1, i1, h, w, 3, 3)
		maxPoolK(x, z2, i2, h, w, 3, 3, 2, 2)
		for q := range z1 {
			if i1[q] != i2[q] || !(z1[q] == z2[q] || z1[q] != z1[q] && z2[q] != z2[q]) {
				t.Fatalf("window %d of %v: fast path takes %v (index %v), general loop %v (index %v)", q, x, z1[q], i1[q], z2[q], i2[q])
			}
		}
	}
}

// TestConvWithPaddingWiderThanTheInput: a kernel column that lies wholly
// in padding unrolls to zeros (it used to slice out of range). PyTorch
// accepts these layers, and so does the gradient check.
func TestConvWithPaddingWiderThanTheInput(t *testing.T) {
	for _, spec := range []string{"1x1x1-conv(1,6,pad=3)", "2x2x1-conv(2,6,pad=3)", "1x3x2-conv(2,5,pad=4)"} {
		sp := MustParseSpec(spec)
		p, in, err := CheckLayer(Shape(sp.Shape), sp.Layers[0], 3, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.MaxRelErr > 1e-6 || in.MaxRelErr > 1e-6 {
			t.Errorf("%s: parameters %v, input %v", spec, p, in)
		}
	}
}

// TestBatchNormOnAnEmptyBatch: a training pass over no rows leaves the
// running statistics and the batch count as they were (0/0 made them NaN).
func TestBatchNormOnAnEmptyBatch(t *testing.T) {
	m, _ := New[float64](MustParseSpec("1x4x4-conv(2,3,pad=1)-bn:relu-flatten-3:softmax"), 1)
	before := slices.Clone(m.Buffers)
	ws := NewWorkspace(m, 4)
	ws.ZeroGrad()
	ws.Forward(nil, 0, true)
	ws.LossGrad(CrossEntropy, nil, 1)
	ws.Backward()
	if !slices.Equal(m.Buffers, before) {
		t.Fatalf("running statistics %v after an empty batch, were %v", m.Buffers, before)
	}
	for _, g := range ws.Grad {
		if g != 0 {
			t.Fatalf("gradient %v from an empty batch", ws.Grad)
		}
	}
}

// TestAddToMatchesAxpy: col2im's sums give Axpy's bits with α = 1, with
// and without the assembly, at every length around its 8-lane blocks.
func TestAddToMatchesAxpy(t *testing.T) {
	defer func(h bool) { haveAVX2 = h }(haveAVX2)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, asm := range []bool{false, haveAVX2} {
		haveAVX2 = asm
		for n := 0; n <= 40; n++ {
			src, dst := make([]float32, n), make([]float32, n)
			for i := range src {
				src[i], dst[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			want := slices.Clone(dst)
			num.Axpy(1, src, want)
			addTo(dst, src)
			if !slices.Equal(dst, want) {
				t.Fatalf("asm %v, n %d: %v, want %v", asm, n, dst, want)
			}
		}
	}
}
