package model

import (
	"strings"
	"testing"
)

// TestLossAutoIsTheZeroValue: the zero Loss is DefaultLoss of the model,
// for Resolve, CheckLoss and a workspace's LossGrad alike.
func TestLossAutoIsTheZeroValue(t *testing.T) {
	var zero Loss
	if zero != LossAuto || zero.String() != "auto" {
		t.Fatalf("zero Loss is %v", zero)
	}
	if l, err := ParseLoss("auto"); err != nil || l != LossAuto {
		t.Fatalf("ParseLoss(auto) = %v, %v", l, err)
	}
	for _, l := range []Loss{MSE, BCE, CrossEntropy} {
		if p, err := ParseLoss(l.String()); err != nil || p != l {
			t.Fatalf("ParseLoss(%q) = %v, %v", l.String(), p, err)
		}
	}
	soft := MustParseSpec("3-4:softmax")
	if LossAuto.Resolve(soft) != CrossEntropy || MSE.Resolve(soft) != MSE {
		t.Fatal("Resolve")
	}
	if err := CheckLoss(LossAuto, soft); err != nil {
		t.Fatal(err)
	}
	if err := CheckLoss(Loss(99), soft); err == nil || !strings.Contains(err.Error(), "unknown loss") {
		t.Fatalf("CheckLoss(Loss(99)) = %v", err)
	}
	m, _ := New[float64](soft, 1)
	ws := NewWorkspace(m, 2)
	x, y := []float64{1, 2, 3, -1, 0, 1}, []float64{0, 1, 0, 0, 0, 0, 0, 1}
	ws.Forward(x, 2, false)
	auto := ws.LossGrad(LossAuto, y, 2)
	ce := ws.Loss(CrossEntropy, y)
	if auto != ce || auto == ws.Loss(MSE, y) {
		t.Fatalf("LossGrad(LossAuto) = %v, cross-entropy %v", auto, ce)
	}
}

// A workspace's LossAuto is its model's DefaultLoss for every output
// activation, in Loss as in LossGrad.
func TestWorkspaceLossAuto(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Loss
	}{{"3-4:softmax", CrossEntropy}, {"3-1:sigmoid", BCE}, {"3-2", MSE}} {
		m, _ := New[float64](MustParseSpec(tc.spec), 1)
		ws := NewWorkspace(m, 2)
		out := m.Spec.Outputs()
		x, y := []float64{1, 2, 3, -1, 0, 1}, make([]float64, 2*out)
		y[0], y[2*out-1] = 1, 1
		ws.Forward(x, 2, false)
		want := ws.Loss(tc.want, y)
		if got := ws.Loss(LossAuto, y); got != want {
			t.Errorf("%s: Loss(LossAuto) = %v, %v's is %v", tc.spec, got, tc.want, want)
		}
		if got := ws.LossGrad(LossAuto, y, 2); got != want {
			t.Errorf("%s: LossGrad(LossAuto) = %v, %v's is %v", tc.spec, got, tc.want, want)
		}
	}
}
