package gradcheck

import (
	"fmt"
	"math"
)

// Floor is the smallest denominator of the relative error. Central
// differences with step h carry an absolute error of about
// h²·|third derivative| + ε·|f|/h ≈ 1e-10 for h = 1e-5; dividing that by a gradient
// element near zero would report noise, so such elements are judged by
// their error relative to Floor.
const Floor = 1e-3

// Result is the worst element of a check.
type Result struct {
	MaxRelErr         float64 // max over i of |a_i − n_i| / max(|a_i|, |n_i|, Floor)
	Index             int     // the i of the worst element
	Analytic, Numeric float64 // a_i and n_i there
}

// String describes the worst element, for a test failure message.
func (r Result) String() string {
	return fmt.Sprintf("max relative error %.3g at index %d (analytic %.12g, numeric %.12g)", r.MaxRelErr, r.Index, r.Analytic, r.Numeric)
}

// Check computes n_i = (f(x + h·e_i) − f(x − h·e_i)) / 2h for every i and
// compares it with analytic[i]. f must read x and nothing else that varies;
// Check restores each x[i] after perturbing it, and panics if f changed x
// (a check of the inputs, in the manner of gonum's testblas).
func Check(x, analytic []float64, f func() float64, h float64) Result {
	if len(x) != len(analytic) {
		panic(fmt.Sprintf("gradcheck: %d parameters, %d gradient elements", len(x), len(analytic)))
	}
	orig := append([]float64(nil), x...)
	res := Result{Index: -1}
	for i := range x {
		v := x[i]
		x[i] = v + h
		fp := f()
		x[i] = v - h
		fm := f()
		x[i] = v
		num := (fp - fm) / (2 * h)
		a := analytic[i]
		rel := math.Abs(a-num) / math.Max(Floor, math.Max(math.Abs(a), math.Abs(num)))
		if math.IsNaN(rel) {
			rel = math.Inf(1)
		}
		if res.Index < 0 || rel > res.MaxRelErr {
			res = Result{MaxRelErr: rel, Index: i, Analytic: a, Numeric: num}
		}
	}
	for i := range x {
		if x[i] != orig[i] {
			panic(fmt.Sprintf("gradcheck: f modified x[%d]", i))
		}
	}
	return res
}
