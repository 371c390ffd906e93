package model

import "testing"

// TestNewInitializes: New starts from Initialize(seed, InitAuto), never from
// zeros, and NewZero is the all-zero start.
func TestNewInitializes(t *testing.T) {
	for _, spec := range []string{"64-128:relu-10:softmax", "1x8x8-conv(8,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax"} {
		sp := MustParseSpec(spec)
		m, err := New[float32](sp, 3)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := NewZero[float32](sp)
		for _, v := range want.Params {
			if v != 0 && v != 1 { // batch norm's scales are one
				t.Fatalf("%s: NewZero has parameter %v", spec, v)
			}
		}
		_ = want.Initialize(3, InitAuto)
		nonzero := 0
		for i, v := range m.Params {
			if v != want.Params[i] {
				t.Fatalf("%s: New(spec, 3) differs from NewZero + Initialize(3, InitAuto) at %s", spec, m.ParamName(i))
			}
			if v != 0 {
				nonzero++
			}
		}
		if nonzero < len(m.Params)/2 {
			t.Fatalf("%s: only %d of %d parameters non-zero", spec, nonzero, len(m.Params))
		}
		other, _ := New[float32](sp, 4)
		if other.Params[0] == m.Params[0] {
			t.Fatalf("%s: seeds 3 and 4 give the same first weight", spec)
		}
	}
	if _, err := New[float32](Spec{}, 1); err == nil {
		t.Fatal("New accepted an empty spec")
	}
}
