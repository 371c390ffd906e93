package model_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// fit trains spec on (x, y) full-batch and returns the training accuracy.
func fit(t *testing.T, spec string, x, y []float64, n, steps int, cfg optim.Config) float64 {
	t.Helper()
	sp := model.MustParseSpec(spec)
	m, _ := model.New[float64](sp, 1)
	opt, err := optim.New[float64](cfg, len(m.Params))
	if err != nil {
		t.Fatal(err)
	}
	ws := model.NewWorkspace(m, n)
	loss := model.DefaultLoss(sp)
	for range steps {
		ws.ZeroGrad()
		ws.Forward(x, n, true)
		ws.LossGrad(loss, y, float64(n))
		ws.Backward()
		opt.Step(m.Params, ws.Grad)
	}
	out := ws.Forward(x, n, false)
	k := sp.Outputs()
	correct := 0
	for r := 0; r < n; r++ {
		if k == 1 {
			if (out[r] > 0.5) == (y[r] > 0.5) {
				correct++
			}
			continue
		}
		best := 0
		for j := 1; j < k; j++ {
			if out[r*k+j] > out[r*k+best] {
				best = j
			}
		}
		if y[r*k+best] == 1 {
			correct++
		}
	}
	return float64(correct) / float64(n)
}

func TestLearnsXOR(t *testing.T) {
	x := []float64{0, 0, 0, 1, 1, 0, 1, 1}
	y := []float64{0, 1, 1, 0}
	cfg := optim.Defaults(optim.Adam)
	cfg.LR = 0.05
	if acc := fit(t, "2-8:tanh-1:sigmoid", x, y, 4, 500, cfg); acc != 1 {
		t.Fatalf("XOR training accuracy %v, want 1", acc)
	}
}

func TestLearnsTwoSpirals(t *testing.T) {
	const n = 200
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, 2*n)
	y := make([]float64, 2*n)
	for i := 0; i < n; i++ {
		c := i % 2
		r := float64(i/2) / float64(n/2)
		th := 3*math.Pi*r + float64(c)*math.Pi
		x[2*i] = r*math.Cos(th) + 0.02*rng.NormFloat64()
		x[2*i+1] = r*math.Sin(th) + 0.02*rng.NormFloat64()
		y[2*i+c] = 1
	}
	cfg := optim.Defaults(optim.Adam)
	cfg.LR = 0.01
	if acc := fit(t, "2-64:relu-64:relu-2:softmax", x, y, n, 600, cfg); acc < 0.95 {
		t.Fatalf("spiral training accuracy %v, want > 0.95", acc)
	}
}
