package model

import (
	"strings"
	"testing"
)

func TestParseSpecRoundTrip(t *testing.T) {
	for _, s := range []string{
		"784-256:relu-128:relu-10:softmax",
		"2-8:tanh-1:sigmoid",
		"4-3",
		"10-20:leakyrelu-20:leakyrelu(0.2):dropout=0.5-3:softmax",
	} {
		sp, err := ParseSpec(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := sp.String(); got != s {
			t.Errorf("ParseSpec(%q).String() = %q", s, got)
		}
	}
	sp := MustParseSpec("784-256:relu-128:relu-10:softmax")
	if got, want := sp.NumParams(), 784*256+256+256*128+128+128*10+10; got != want {
		t.Fatalf("NumParams = %d, want %d", got, want)
	}
}

func TestParseSpecErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"", "want INPUTS-UNITS"},
		{"784", "want INPUTS-UNITS"},
		{"784-", `part 2 ""`},
		{"x-10", `part 1 "x"`},
		{"0-10", "width must be"},
		{"784:relu-10", "input width takes no activation"},
		{"784-10:swish", "unknown activation"},
		{"784-10:relu:tanh", "more than one activation"},
		{"784--10", `part 2 ""`},
		{"784-10:dropout=1.5-2", "dropout must be"},
		{"784-10:relu-2:softmax:dropout=0.1", "dropout on the output layer"},
		{"784-10:leakyrelu(2)", "slope must be"},
		{"784-10:relu(2)", "takes no parameter"},
		{"784-99999999999", "width must be"},
		{"4-10:leakyrelu(0.1", "missing ')'"},
	} {
		_, err := ParseSpec(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSpec(%q) = %v, want an error containing %q", tc.spec, err, tc.want)
		}
	}
}

func TestCheckLoss(t *testing.T) {
	soft := MustParseSpec("4-3:softmax")
	sig := MustParseSpec("4-1:sigmoid")
	if err := CheckLoss(CrossEntropy, soft); err != nil {
		t.Error(err)
	}
	if err := CheckLoss(CrossEntropy, sig); err == nil {
		t.Error("crossentropy accepted a sigmoid output")
	}
	if err := CheckLoss(BCE, soft); err == nil {
		t.Error("bce accepted a softmax output")
	}
	if DefaultLoss(soft) != CrossEntropy || DefaultLoss(sig) != BCE || DefaultLoss(MustParseSpec("2-1")) != MSE {
		t.Error("DefaultLoss does not follow the output activation")
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"784-256:relu-128:relu-10:softmax", "2-1:sigmoid", "3-4:leakyrelu(0.2):dropout=0.1-2",
		"1x8x8-conv(4,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax", "3x9x9-conv(2,3,stride=2)-avgpool(2,stride=1)-flatten-bn-2"} {
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

func TestParseCNNSpec(t *testing.T) {
	const s = "1x28x28-conv(32,3,pad=1)-bn:relu-maxpool(2)-conv(64,3,stride=2,pad=1)-bn:relu-avgpool(3,stride=2)-flatten-128:relu:dropout=0.5-10:softmax"
	sp, err := ParseSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.String(); got != s {
		t.Fatalf("String() = %q", got)
	}
	lay, err := sp.Layout()
	if err != nil {
		t.Fatal(err)
	}
	var shapes, names []string
	for _, l := range lay.Layers {
		shapes = append(shapes, l.Out.String())
		for _, ts := range append(l.Params, l.Buffers...) {
			names = append(names, ts.Name)
		}
	}
	if got, want := strings.Join(shapes, " "), "32x28x28 32x28x28 32x14x14 64x7x7 64x7x7 64x3x3 576 128 10"; got != want {
		t.Errorf("shapes %s, want %s", got, want)
	}
	if got, want := strings.Join(names, " "), "conv.0.weight conv.0.bias bn.0.weight bn.0.bias bn.0.running_mean bn.0.running_var bn.0.num_batches_tracked "+
		"conv.1.weight conv.1.bias bn.1.weight bn.1.bias bn.1.running_mean bn.1.running_var bn.1.num_batches_tracked "+
		"dense.0.weight dense.0.bias dense.1.weight dense.1.bias"; got != want {
		t.Errorf("tensors %s, want %s", got, want)
	}
	want := 32*9 + 32 + 2*32 + 64*32*9 + 64 + 2*64 + 576*128 + 128 + 128*10 + 10
	if sp.NumParams() != want || lay.NumParams != want || lay.NumBuffers != 2*(2*32+1)+2*64-2*32 {
		t.Errorf("NumParams %d (layout %d), want %d; buffers %d", sp.NumParams(), lay.NumParams, want, lay.NumBuffers)
	}
	if sp.Outputs() != 10 || sp.Inputs != 784 {
		t.Errorf("Inputs %d, Outputs %d", sp.Inputs, sp.Outputs())
	}
}

func TestParseCNNSpecErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"784-conv(8,3)-10", `part 2 "conv(8,3)": conv needs a C×H×W input`},
		{"1x28x28-128-10", `part 2 "128": a dense layer needs a flat input, this one gets 1x28x28: put flatten before it`},
		{"1x4x4-conv(8,5)-flatten-2", `part 2 "conv(8,5)": a 5x5 window does not fit the 1x4x4 input`},
		{"1x8x8-conv(8)-flatten-2", "want conv(OUT,K[,stride=S][,pad=P])"},
		{"1x8x8-conv(8,3,dilation=2)-flatten-2", `"dilation=2"`},
		{"1x8x8-maxpool(2,pad=1)-flatten-2", `"pad=1"`},
		{"1x8x8-maxpool(0)-flatten-2", "positive sizes"},
		{"1x8x8-conv(4,3):softmax-flatten-2", "softmax needs a flat output"},
		{"1x8x8-bn(3)-flatten-2", "takes no arguments"},
		{"1x0x8-flatten-2", "input shape is CxHxW"},
		{"1x8-flatten-2", `part 1 "1x8"`},
		{"1x8x8-swirl(2)-2", "want a width, conv(OUT,K)"},
	} {
		_, err := ParseSpec(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSpec(%q) = %v, want an error containing %q", tc.spec, err, tc.want)
		}
	}
}

// TestSpecSizesCannotOverflow: shape products saturate instead of wrapping,
// so a spec whose sizes multiply past an int is refused, not accepted with
// a wrapped (small, wrong) parameter count; pools take no padding; a conv
// that would unroll terabytes per sample is refused.
func TestSpecSizesCannotOverflow(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"16777216x1x1-conv(65536,16777216,pad=8388608)-flatten-2", "more than"},
		{"16672844x2637851x16777211-flatten-2", "part 1"},
		{"1x4096x4096-conv(1,4097,pad=2048)-flatten-2", "values per sample, more than"},
	} {
		if _, err := ParseSpec(tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSpec(%q) = %v, want an error containing %q", tc.spec, err, tc.want)
		}
	}
	sp := Spec{Inputs: 9, Shape: []int{1, 3, 3}, Layers: []LayerSpec{{Kind: KindMaxPool, Kernel: 2, Pad: 1}, {Kind: KindFlatten}}}
	if err := sp.Validate(); err == nil || !strings.Contains(err.Error(), "takes no padding") {
		t.Errorf("a max pool with padding: %v", err)
	}
	if _, err := ParseSpec("1x8x8-conv(3,3,stride=2,stride=3)-flatten-2"); err == nil {
		t.Error("a repeated argument was accepted")
	}
}
