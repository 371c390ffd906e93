package parallel

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// cutContext is cancelled at a chosen moment: its Err reports Canceled
// from the k-th call on (and its Done channel is closed then), so a test
// can interrupt training at every point where the trainer looks.
type cutContext struct {
	context.Context
	left atomic.Int64
	once sync.Once
	done chan struct{}
}

func cutAfter(k int64) *cutContext {
	c := &cutContext{Context: context.Background(), done: make(chan struct{})}
	c.left.Store(k)
	return c
}

func (c *cutContext) Err() error {
	if c.left.Add(-1) < 0 {
		c.once.Do(func() { close(c.done) })
		return context.Canceled
	}
	return nil
}

func (c *cutContext) Done() <-chan struct{} { return c.done }

// TestInterruptAtEveryCheckKeepsProgressAndWeightsTogether interrupts a
// Fit at each check of the context in turn. Whatever the moment, the steps
// the optimizer counts, the progress a checkpoint would record and the
// weights must describe the same step, and resuming from them must end
// with the uninterrupted run's weights bit for bit. (An interrupt just
// before the apply phase once counted a step whose update never happened.)
func TestInterruptAtEveryCheckKeepsProgressAndWeightsTogether(t *testing.T) {
	train, val := digitsSplit(t)
	const epochs = 2
	newTrainer := func() *Trainer[float32] {
		m, _ := model.New[float32](model.MustParseSpec("64-32:relu:dropout=0.1-10:softmax"), 1)
		oc := optim.Defaults(optim.Adam)
		oc.LR = 0.01
		opt, _ := optim.New[float32](oc, len(m.Params))
		tr, err := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	// The uninterrupted run, with the weights after every step.
	whole := newTrainer()
	after := [][]float32{slices.Clone(whole.m.Params)}
	steps := 0
	// Batches of 128: 12 steps an epoch, 54 checks in the 2 epochs (the
	// context is checked about twice a step), each cut run resumed to the
	// end: every kind of check, at half the 64-row batches' runs.
	cfg := FitConfig{Epochs: epochs, BatchSize: 128, Shuffle: true, Seed: 3, OnStep: func(s StepInfo) error {
		after = append(after, slices.Clone(whole.m.Params))
		steps = s.Batches
		return nil
	}}
	if _, err := whole.Fit(context.Background(), train, val, cfg); err != nil {
		t.Fatal(err)
	}
	cfg.OnStep = nil

	interrupted := 0
	for k := int64(0); ; k++ {
		tr := newTrainer()
		res, err := tr.Fit(cutAfter(k), train, val, cfg)
		if err == nil {
			break // k is past the last check
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cut at check %d: %v", k, err)
		}
		interrupted++
		done := tr.opt.Steps()
		if p := int64(res.Epoch*steps + res.Batch); p != done {
			t.Fatalf("cut at check %d: progress %+v is step %d, the optimizer took %d", k, res.Progress, p, done)
		}
		if !slices.Equal(tr.m.Params, after[done]) {
			t.Fatalf("cut at check %d: the weights are not those after step %d", k, done)
		}
		// Resume into fresh objects from what a checkpoint holds.
		re := newTrainer()
		copy(re.m.Params, tr.m.Params)
		if err := re.opt.LoadState(tr.opt.State()); err != nil {
			t.Fatal(err)
		}
		rc := cfg
		rc.Start = res.Progress
		if _, err := re.Fit(context.Background(), train, val, rc); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(re.m.Params, whole.m.Params) {
			t.Fatalf("cut at check %d (after step %d): the resumed run ends with other weights", k, done)
		}
	}
	if interrupted < 2*epochs*steps {
		t.Fatalf("only %d interruptions: the trainer checks its context less often than once per phase", interrupted)
	}
}
