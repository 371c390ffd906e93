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
	for _, s := range []string{"784-256:relu-128:relu-10:softmax", "2-1:sigmoid", "3-4:leakyrelu(0.2):dropout=0.1-2"} {
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
