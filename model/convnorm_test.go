package model

import (
	"slices"
	"testing"
)

// TestConvNormTargets: the convs that compute their output gradient from
// the batch norm after them (convnorm.go) are exactly those whose output
// that norm alone reads, with no activation or dropout between, outside a
// fused stage and the wide layout — every conv of ResNet-8. The tests
// comparing the fused passes with the layers run one by one pass just as
// well when nothing is fused; this one does not.
func TestConvNormTargets(t *testing.T) {
	const resnet8 = "1x28x28-conv(16,3,pad=1)-bn:relu-res(conv(16,3,pad=1)-bn:relu-conv(16,3,pad=1)-bn):relu-res(conv(32,3,stride=2,pad=1)-bn:relu-conv(32,3,pad=1)-bn|conv(32,1,stride=2)-bn):relu-res(conv(64,3,stride=2,pad=1)-bn:relu-conv(64,3,pad=1)-bn|conv(64,1,stride=2)-bn):relu-gap-10:softmax"
	for _, c := range []struct {
		spec string
		want []int // stack indices; nil for ResNet-8: every conv
	}{
		{resnet8, nil},
		{"2x6x6-conv(2,3,pad=1)-bn-gap-3:softmax", []int{0}},
		{"2x6x6-conv(2,3,pad=1):relu-bn-gap-3:softmax", []int{}},           // an activation between
		{"2x6x6-conv(2,3,pad=1):dropout=0.1-bn-gap-3:softmax", []int{}},    // dropout between
		{"2x6x6-conv(2,3)-bn-gap-3:softmax", []int{}},                      // the wide layout
		{"2x6x6-conv(2,3,pad=1)-res(bn|conv(2,1))-gap-3:softmax", []int{}}, // the norm is not the conv's only reader
	} {
		m, err := New[float32](MustParseSpec(c.spec), 1)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		want := c.want
		if want == nil {
			want = []int{}
			for l, layer := range m.stack {
				if _, ok := layer.(*conv[float32]); ok {
					want = append(want, l)
				}
			}
			if len(want) != 9 {
				t.Fatalf("ResNet-8 has %d convs, want 9", len(want))
			}
		}
		w := NewWorkspace(m, 2)
		got := []int{}
		for l, nb := range w.nback {
			if nb != nil {
				got = append(got, l)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: convs computing their output gradient %v, want %v", c.spec, got, want)
		}
	}
}
