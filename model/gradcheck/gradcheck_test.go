package gradcheck

import (
	"math"
	"testing"
)

func TestCheckAcceptsExactGradient(t *testing.T) {
	x := []float64{0.3, -1.2, 2}
	f := func() float64 { return math.Sin(x[0]) * x[1] * x[1] * math.Exp(x[2]) }
	g := []float64{
		math.Cos(x[0]) * x[1] * x[1] * math.Exp(x[2]),
		2 * math.Sin(x[0]) * x[1] * math.Exp(x[2]),
		math.Sin(x[0]) * x[1] * x[1] * math.Exp(x[2]),
	}
	if r := Check(x, g, f, 1e-5); r.MaxRelErr > 1e-8 {
		t.Fatal(r)
	}
}

func TestCheckFindsWrongElement(t *testing.T) {
	x := []float64{1, 2, 3}
	f := func() float64 { return x[0]*x[0] + x[1]*x[1] + x[2]*x[2] }
	g := []float64{2, 4.01, 6}
	r := Check(x, g, f, 1e-5)
	if r.Index != 1 || r.MaxRelErr < 1e-3 {
		t.Fatalf("want a reported error at index 1, got %v", r)
	}
}
