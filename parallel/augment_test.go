package parallel

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// augDigitsCNN has batch norm, whose statistics see every row of a batch:
// rows that differed by worker would show at once.
const augDigitsCNN = "1x8x8-conv(4,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax"

func digitsAugment() *data.Augment {
	return &data.Augment{C: 1, H: 8, W: 8, Crop: 1, Flip: true, VFlip: true, Erase: true, Seed: 5}
}

// fitAugmented fits augDigitsCNN on the digits with w workers and returns
// the trainer. The optimizer is SGD with momentum: Adam divides the
// rounding noise that reaches a bias right before batch norm by its own
// size (see workersMatchReference), which would hide what is tested here.
func fitAugmented[T num.Float](t *testing.T, w int, cfg FitConfig) (*Trainer[T], FitResult, error) {
	train, val := digitsSplit(t)
	m, _ := model.New[T](model.MustParseSpec(augDigitsCNN), 1)
	oc := optim.Defaults(optim.Momentum)
	oc.LR = 0.05
	opt, _ := optim.New[T](oc, len(m.Params))
	tr, err := New(m, opt, Config{Workers: w, Loss: model.CrossEntropy, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg.BatchSize = 64
	res, err := tr.Fit(context.Background(), train, val, cfg)
	return tr, res, err
}

// TestAugmentedFitIsWorkerIndependent: with augmentation, W ∈ {1, 2, 3}
// workers train the same weights (to float64 rounding), the same W
// repeats bit for bit, and augmentation does change what is learnt.
func TestAugmentedFitIsWorkerIndependent(t *testing.T) {
	cfg := FitConfig{Epochs: 2, Shuffle: true, Seed: 3, Augment: digitsAugment()}
	one, _, err := fitAugmented[float64](t, 1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{2, 3} {
		tr, _, err := fitAugmented[float64](t, w, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(tr.m.Params, one.m.Params); d >= 1e-10 {
			t.Errorf("%d workers: weights max |Δ| = %g from one worker's", w, d)
		}
		if d := maxDiff(tr.m.Buffers, one.m.Buffers); d >= 1e-10 {
			t.Errorf("%d workers: running statistics max |Δ| = %g from one worker's", w, d)
		}
	}
	a, _, _ := fitAugmented[float64](t, 3, cfg)
	b, _, _ := fitAugmented[float64](t, 3, cfg)
	if !slices.Equal(a.m.Params, b.m.Params) || !slices.Equal(a.m.Buffers, b.m.Buffers) {
		t.Error("two augmented runs with the same seed and workers differ")
	}
	plain := cfg
	plain.Augment = nil
	p, _, _ := fitAugmented[float64](t, 1, plain)
	if maxDiff(p.m.Params, one.m.Params) < 1e-3 {
		t.Error("training with augmentation learnt what training without it does")
	}
}

// TestAugmentedFitResumesExactly: a run cut mid-epoch and resumed from its
// weights, optimizer state and progress ends where the uninterrupted one
// does, with augmentation on.
func TestAugmentedFitResumesExactly(t *testing.T) {
	cfg := FitConfig{Epochs: 3, BatchSize: 64, Shuffle: true, Seed: 3, Augment: digitsAugment()}
	whole, _, err := fitAugmented[float32](t, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopAt := errors.New("interrupt")
	cut := cfg
	cut.OnStep = func(s StepInfo) error {
		if s.Epoch == 1 && s.Batch == 7 {
			return stopAt
		}
		return nil
	}
	first, res, err := fitAugmented[float32](t, 2, cut)
	if !errors.Is(err, stopAt) {
		t.Fatalf("interrupted run: %v", err)
	}
	resume := cfg
	resume.Start = res.Progress
	second, _, err := fitAugmented[float32](t, 3, FitConfig{Epochs: 0}) // another W, too
	if err != nil {
		t.Fatal(err)
	}
	copy(second.m.Params, first.m.Params)
	copy(second.m.Buffers, first.m.Buffers)
	if err := second.opt.LoadState(first.opt.State()); err != nil {
		t.Fatal(err)
	}
	second.cfg.Workers = 2
	tr, err := New(second.m, second.opt, Config{Workers: 2, Loss: model.CrossEntropy, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	train, val := digitsSplit(t)
	if _, err := tr.Fit(context.Background(), train, val, resume); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(second.m.Params, whole.m.Params) || !slices.Equal(second.m.Buffers, whole.m.Buffers) {
		t.Fatal("the resumed augmented run ends with other weights or statistics than the uninterrupted one")
	}
}

func TestFitRejectsAugmentOfAnotherShape(t *testing.T) {
	a := digitsAugment()
	a.H = 7
	_, _, err := fitAugmented[float32](t, 1, FitConfig{Epochs: 1, Augment: a})
	if err == nil {
		t.Fatal("an augmentation of 7×8 images on 64 features: no error")
	}
}

// TestAugmentedFitValidatesUnaugmented: the validation figures Fit
// reports with augmentation on are those of the plain validation rows.
func TestAugmentedFitValidatesUnaugmented(t *testing.T) {
	var last float64
	cfg := FitConfig{Epochs: 1, Shuffle: true, Seed: 3, Augment: digitsAugment(), OnEpoch: func(e EpochInfo) error { last = e.Val.Loss; return nil }}
	tr, _, err := fitAugmented[float64](t, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, val := digitsSplit(t)
	m, err := tr.Evaluate(context.Background(), val, 64)
	if err != nil {
		t.Fatal(err)
	}
	if m.Loss != last {
		t.Errorf("validation loss %v during the augmented fit, %v evaluated afterwards", last, m.Loss)
	}
}
