package model

import (
	"slices"
	"strings"
	"testing"
)

// TestResGradients checks residual blocks — identity and projection
// shortcuts, strided, nested, with dropout and batch norm inside — and
// global average pooling as one layer each against central differences
// in float64, on both products (parameters and input).
func TestResGradients(t *testing.T) {
	for _, tc := range []struct {
		in    Shape
		layer string
	}{
		{Shape{2, 5, 5}, "res(conv(2,3,pad=1):tanh-conv(2,3,pad=1))"},
		{Shape{2, 5, 5}, "res(conv(2,3,pad=1)-bn:relu-conv(2,3,pad=1)-bn):relu"},
		{Shape{2, 6, 6}, "res(conv(3,3,stride=2,pad=1)-bn:relu-conv(3,3,pad=1)-bn|conv(3,1,stride=2)-bn):relu"},
		{Shape{2, 6, 6}, "res(conv(3,3,stride=2,pad=1):tanh|conv(3,1,stride=2))"},
		{Shape{2, 5, 5}, "res(res(conv(2,3,pad=1):tanh)-bn:tanh-conv(2,1)):tanh"},
		{Shape{2, 5, 5}, "res(conv(2,3,pad=1):tanh:dropout=0.3-conv(2,3,pad=1)):tanh"},
		{Shape{2, 6, 6}, "res(maxpool(2)-conv(2,1)|avgpool(2))"},
		{Shape{6}, "res(5:tanh-6|6)"},
		{Shape{6}, "res(bn:tanh-6):sigmoid"},
		{Shape{3, 4, 5}, "gap"},
		{Shape{3, 4, 5}, "gap:tanh"},
	} {
		name := tc.in.String() + "-" + tc.layer
		t.Run(name, func(t *testing.T) {
			sp, err := ParseSpec(name)
			if err != nil {
				t.Fatal(err)
			}
			p, in, err := CheckLayer(tc.in, sp.Layers[0], 4, 3)
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

// halfSum is a block's sum that drops its second term in forward while
// backward still passes the gradient to both.
type halfSum struct{ *sum[float64] }

func (h halfSum) join(p *pass[float64], xs [][]float64, z []float64) { copy(z, xs[0]) }

// TestResCheckFailsWhenTheSumDropsATerm shows that the gradient check
// sees a block whose sum leaves out one of its terms.
func TestResCheckFailsWhenTheSumDropsATerm(t *testing.T) {
	for _, spec := range []string{"2x5x5-res(conv(2,3,pad=1):tanh)", "2x6x6-res(conv(3,3,stride=2,pad=1)|conv(3,1,stride=2))"} {
		m, err := NewZero[float64](MustParseSpec(spec))
		if err != nil {
			t.Fatal(err)
		}
		last := len(m.stack) - 1
		m.stack[last] = halfSum{m.stack[last].(*sum[float64])}
		p, in := checkLayer(m, 3, 1)
		if p.MaxRelErr < 1e-3 && in.MaxRelErr < 1e-3 {
			t.Errorf("%s: a block dropping a term passed: parameters %v, input %v", spec, p, in)
		}
	}
}

// TestResNetGradients checks whole small ResNets — stem, an identity
// block, a projection block, gap and a softmax head; dropout after a
// block's sum — under cross-entropy.
func TestResNetGradients(t *testing.T) {
	checkModel(t, "2x5x5-res(conv(2,3,pad=1):tanh-conv(2,3,pad=1)):tanh:dropout=0.3-flatten-3:softmax", CrossEntropy, 5)
	checkModel(t, "1x6x6-conv(2,3,pad=1)-bn:relu-res(conv(2,3,pad=1)-bn:relu-conv(2,3,pad=1)-bn):relu-res(conv(3,3,stride=2,pad=1)-bn:relu-conv(3,3,pad=1)-bn|conv(3,1,stride=2)-bn):relu-gap-3:softmax", CrossEntropy, 5)
}

// TestResLayout: tensor names count each kind in spec order, a block's
// body first, then its shortcut; each block ends in its sum, which reads
// the two branches.
func TestResLayout(t *testing.T) {
	sp := MustParseSpec(ResNet8)
	lay, err := sp.Layout()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range lay.Layers {
		if l.Name != "" {
			names = append(names, l.Name)
		} else {
			names = append(names, l.Spec.Kind.String())
		}
	}
	want := "conv.0 bn.0 conv.1 bn.1 conv.2 bn.2 res conv.3 bn.3 conv.4 bn.4 conv.5 bn.5 res conv.6 bn.6 conv.7 bn.7 conv.8 bn.8 res gap dense.0"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("layers\n%s, want\n%s", got, want)
	}
	if got := lay.Layers[6].Inputs; len(got) != 2 || got[0] != 5 || got[1] != 1 {
		t.Errorf("the identity block's sum reads %v, want [5 1]", got)
	}
	if got := lay.Layers[13].Inputs; len(got) != 2 || got[0] != 10 || got[1] != 12 {
		t.Errorf("the projection block's sum reads %v, want [10 12]", got)
	}
	if got := lay.Layers[11].Inputs; len(got) != 1 || got[0] != 6 {
		t.Errorf("the shortcut reads %v, want the block's input [6]", got)
	}
	if sp.String() != ResNet8 {
		t.Errorf("String %q, want %q", sp.String(), ResNet8)
	}
	if n := lay.NumParams; n != 78090 {
		t.Errorf("%d parameters, want 78090", n)
	}
}

// ResNet8 is the ResNet-8 for 28×28 images.
const ResNet8 = "1x28x28-conv(16,3,pad=1)-bn:relu-res(conv(16,3,pad=1)-bn:relu-conv(16,3,pad=1)-bn):relu-res(conv(32,3,stride=2,pad=1)-bn:relu-conv(32,3,pad=1)-bn|conv(32,1,stride=2)-bn):relu-res(conv(64,3,stride=2,pad=1)-bn:relu-conv(64,3,pad=1)-bn|conv(64,1,stride=2)-bn):relu-gap-10:softmax"

// TestResSpecErrors: a block's errors name the block, the branch and the
// part, and a body that changes the shape suggests a shortcut.
func TestResSpecErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"1x8x8-res(conv(4,3,pad=1))", "maps 1x8x8 to 4x8x8"},
		{"1x8x8-res(conv(4,3,pad=1))", "res(BODY|conv(4,1,stride=1)-bn)"},
		{"1x8x8-res(conv(2,3,stride=2,pad=1)|conv(2,1))", "the body's output is 2x4x4, the shortcut's 2x8x8"},
		{"1x8x8-res(conv(1,3,pad=1)-bogus)", `body part 2 "bogus"`},
		{"1x8x8-res(conv(1,3,pad=1)|bn:nope)", `shortcut part 1 "bn:nope"`},
		{"1x8x8-res()", "want res(BODY) or res(BODY|SHORTCUT)"},
		{"1x8x8-res(bn|bn|bn)", "3 branches"},
		{"1x8x8-res(bn", "want res(BODY)"},
		{"1x8x8-conv(2,3)-res(conv(2,9))", `part 3 "res(conv(2,9))": body layer 1 (conv(2,9)): a 9x9 window does not fit the 2x6x6 input`},
		{"1x8x8-res(conv(1,3,pad=1)|res(bn-conv(2,1)))", `shortcut layer 1 (res(bn-conv(2,1))): the body maps 1x8x8 to 2x8x8`},
		{"6-gap", "gap needs a C×H×W input"},
		{"1x8x8-gap(2)", "gap takes no arguments"},
	} {
		_, err := ParseSpec(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSpec(%q) = %v, want an error containing %q", tc.spec, err, tc.want)
		}
	}
}

// FuzzParseResSpec: whatever ParseSpec reads, blocks included, it writes
// back in a form that parses to the same spec.
func FuzzParseResSpec(f *testing.F) {
	for _, s := range []string{ResNet8, "2x5x5-res(res(conv(2,3,pad=1):tanh)-bn:tanh-conv(2,1)):tanh:dropout=0.1-gap-2",
		"6-res(5:tanh-6|6):relu-2", "1x4x4-res(bn|maxpool(1))-gap-1", "1x8x8-res(conv(1,3,pad=1)|res(bn-conv(2,1)))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			return
		}
		again, err := ParseSpec(sp.String())
		if err != nil || again.String() != sp.String() {
			t.Fatalf("%q → %q does not parse back the same: %v", s, sp.String(), err)
		}
	})
}

// TestResNoFusionWithTwoReaders: a convolution or batch norm whose output
// a max pooling reads runs fused with it only when nothing else reads
// that output; here the block's sum reads it too.
func TestResNoFusionWithTwoReaders(t *testing.T) {
	for _, spec := range []string{
		"1x6x6-conv(2,3,pad=1):relu-res(maxpool(1))-flatten-3:softmax",
		"1x6x6-conv(2,3,pad=1)-bn:relu-res(maxpool(1)-conv(2,1))-flatten-3:softmax",
	} {
		m, _ := New[float64](MustParseSpec(spec), 1)
		if ws := NewWorkspace(m, 2); slices.ContainsFunc(ws.stage, func(f fused[float64]) bool { return f != nil }) {
			t.Errorf("%s: fused a layer whose output two layers read", spec)
		}
		checkModel(t, spec, CrossEntropy, 4)
	}
	m, _ := New[float64](MustParseSpec("1x6x6-res(conv(2,3,pad=1):relu-maxpool(1)-conv(1,1))"), 1)
	if ws := NewWorkspace(m, 2); ws.stage[0] == nil {
		t.Error("a conv read by a max pooling alone, inside a block, did not fuse")
	}
}
