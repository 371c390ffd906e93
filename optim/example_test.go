package optim_test

import (
	"fmt"

	"github.com/ptrain/ptrain/optim"
)

// Minimise f(p) = (p0 − 3)² + (p1 + 1)² with Adam.
func Example() {
	cfg := optim.Defaults(optim.Adam)
	cfg.LR = 0.1
	opt, err := optim.New[float64](cfg, 2)
	if err != nil {
		panic(err)
	}
	p := []float64{0, 0}
	g := make([]float64, 2)
	for range 500 {
		g[0], g[1] = 2*(p[0]-3), 2*(p[1]+1)
		opt.Step(p, g)
	}
	fmt.Printf("p = (%.3f, %.3f)\n", p[0], p[1])
	// Output: p = (3.000, -1.000)
}
