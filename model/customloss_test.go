package model_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// Huber is the loss a user might write: quadratic within Delta of the
// target, linear beyond (PyTorch's nn.HuberLoss, mean over the outputs).
type Huber struct{ Delta float64 }

func (h Huber) Sample(a, y, grad []float64) float64 {
	var sum float64
	k := float64(len(a))
	for j := range a {
		d := a[j] - y[j]
		if math.Abs(d) <= h.Delta {
			sum += d * d / 2
			if grad != nil {
				grad[j] = d / k
			}
		} else {
			sum += h.Delta * (math.Abs(d) - h.Delta/2)
			if grad != nil {
				grad[j] = h.Delta * math.Copysign(1, d) / k
			}
		}
	}
	return sum / k
}

// wrongHuber forgets the 1/k of the mean in its gradient.
type wrongHuber struct{ Huber }

func (h wrongHuber) Sample(a, y, grad []float64) float64 {
	s := h.Huber.Sample(a, y, grad)
	for j := range grad {
		grad[j] *= float64(len(a))
	}
	return s
}

var (
	huber      = model.RegisterLoss("huber", Huber{Delta: 0.5})
	wrongLoss  = model.RegisterLoss("wrong-huber", wrongHuber{Huber{Delta: 0.5}})
	targetsRNG = rand.New(rand.NewPCG(5, 6))
)

func targets(n int) []float64 {
	y := make([]float64, n)
	for i := range y {
		y[i] = targetsRNG.NormFloat64()
	}
	return y
}

func TestCustomLossPassesGradientCheck(t *testing.T) {
	if l, err := model.ParseLoss("Huber"); err != nil || l != huber || huber.String() != "huber" {
		t.Fatalf("ParseLoss(Huber) = %v, %v; String %q", l, err, huber.String())
	}
	for _, spec := range []string{"5-6:tanh-3", "5-6:relu-3:tanh", "5-6:sigmoid:dropout=0.3-4:softmax", "1x4x4-conv(2,3,pad=1)-bn:relu-flatten-2"} {
		sp := model.MustParseSpec(spec)
		r, err := model.CheckLossGradient(huber, sp, targets(4*sp.Outputs()), 3)
		if err != nil || r.MaxRelErr > 1e-6 {
			t.Errorf("%s: %v %v", spec, r, err)
		}
		r, _ = model.CheckLossGradient(wrongLoss, sp, targets(4*sp.Outputs()), 3)
		if r.MaxRelErr < 1e-2 {
			t.Errorf("%s: a wrong gradient passed: %v", spec, r)
		}
	}
	for _, l := range []model.Loss{model.MSE, model.CrossEntropy} {
		sp := model.MustParseSpec("5-6:tanh-3:softmax")
		y := make([]float64, 12)
		for r := range 4 {
			y[3*r+r%3] = 1
		}
		if r, err := model.CheckLossGradient(l, sp, y, 1); err != nil || r.MaxRelErr > 1e-6 {
			t.Errorf("%v: %v %v", l, r, err)
		}
	}
	if _, err := model.CheckLossGradient(huber, model.MustParseSpec("5-3"), targets(7), 1); err == nil {
		t.Error("7 targets for 3 outputs accepted")
	}
}

func TestRegisterLossRefusesTakenNames(t *testing.T) {
	for _, name := range []string{"mse", "CE", "auto", "HUBER", ""} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "RegisterLoss") {
					t.Errorf("RegisterLoss(%q) did not panic: %v", name, r)
				}
			}()
			model.RegisterLoss(name, Huber{1})
		}()
	}
}

// TestCustomLossTrains: a registered loss drives parallel's trainer like a
// built-in one, in float32, and learns the synthetic regression.
func TestCustomLossTrains(t *testing.T) {
	ds, _ := data.Synthetic("regression", 600, 1)
	train, test, _ := ds.Split(0.2, 1)
	m, _ := model.New[float32](model.MustParseSpec("2-32:tanh-1"), 1)
	oc := optim.Defaults(optim.Adam)
	oc.LR = 0.01
	opt, _ := optim.New[float32](oc, len(m.Params))
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 2, Loss: huber})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	before, _ := tr.Evaluate(ctx, test, 32)
	if _, err := tr.Fit(ctx, train, nil, parallel.FitConfig{Epochs: 40, BatchSize: 32, Shuffle: true}); err != nil {
		t.Fatal(err)
	}
	after, _ := tr.Evaluate(ctx, test, 32)
	if !(after.Loss < before.Loss/10) {
		t.Fatalf("Huber loss %.4f before training, %.4f after", before.Loss, after.Loss)
	}
}
