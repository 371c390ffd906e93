package parallel

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// TestNewRefusesOptimizerOfAnotherSize: an optimizer made for another
// parameter count is an error from New, not a panic in a worker's first
// step.
func TestNewRefusesOptimizerOfAnotherSize(t *testing.T) {
	m, _ := model.New[float32](model.MustParseSpec("64-32:relu-10:softmax"), 1)
	other, _ := model.New[float32](model.MustParseSpec("64-10:softmax"), 1)
	for _, method := range []optim.Method{optim.SGD, optim.Adam} {
		opt, _ := optim.New[float32](optim.Defaults(method), len(other.Params))
		_, err := New(m, opt, Config{Workers: 2})
		if err == nil || !strings.Contains(err.Error(), "650 parameters, the model has 2410") {
			t.Errorf("%v: want an error naming both sizes, got %v", method, err)
		}
	}
	if _, err := New[float32](nil, nil, Config{Workers: 1}); err == nil {
		t.Error("New accepted a nil model")
	}
}

// TestEvaluationNeedsNoOptimizer: a trainer made without an optimizer
// evaluates to the figures of one made with it, and refuses to train,
// with the weights untouched.
func TestEvaluationNeedsNoOptimizer(t *testing.T) {
	train, val := digitsSplit(t)
	m, _ := model.New[float32](model.MustParseSpec("64-16:relu:dropout=0.2-10:softmax"), 1)
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
	with, _ := New(m, opt, Config{Workers: 3})
	without, err := New(m, nil, Config{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := with.Evaluate(context.Background(), val, 50)
	got, err := without.Evaluate(context.Background(), val, 50)
	if err != nil || got.Loss != want.Loss || got.Accuracy != want.Accuracy || without.Optimizer() != nil {
		t.Fatalf("without an optimizer: %v, loss %v accuracy %v; with one: %v %v", err, got.Loss, got.Accuracy, want.Loss, want.Accuracy)
	}
	before := slices.Clone(m.Params)
	x, y := make([]float32, 2*64), make([]float32, 2*10)
	y[3], y[10+4] = 1, 1
	if _, err := without.Step(context.Background(), x, y, 2); !errors.Is(err, ErrNoOptimizer) {
		t.Errorf("Step without an optimizer: %v", err)
	}
	if _, err := without.Fit(context.Background(), train, val, FitConfig{Epochs: 1, BatchSize: 32}); !errors.Is(err, ErrNoOptimizer) {
		t.Errorf("Fit without an optimizer: %v", err)
	}
	if !slices.Equal(m.Params, before) {
		t.Error("a refused step moved the weights")
	}
}
