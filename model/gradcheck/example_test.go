package gradcheck_test

import (
	"fmt"

	"github.com/ptrain/ptrain/model/gradcheck"
)

// Check the gradient of f(x) = Σ x_i³, which is 3x_i², and find a wrong one.
func Example() {
	x := []float64{0.5, -1, 2}
	f := func() float64 {
		var s float64
		for _, v := range x {
			s += v * v * v
		}
		return s
	}
	right := []float64{0.75, 3, 12}
	wrong := []float64{0.75, 3, 11}
	fmt.Println(gradcheck.Check(x, right, f, 1e-5).MaxRelErr < 1e-8)
	r := gradcheck.Check(x, wrong, f, 1e-5)
	fmt.Printf("worst element %d: analytic %g, numeric %.6f\n", r.Index, r.Analytic, r.Numeric)
	// Output:
	// true
	// worst element 2: analytic 11, numeric 12.000000
}
