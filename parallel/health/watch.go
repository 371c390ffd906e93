package health

import (
	"errors"

	"github.com/ptrain/ptrain/parallel"
)

// Watch is a Monitor fed by a parallel Fit through its hooks. Not safe
// for concurrent use (Fit calls its hooks from one goroutine).
type Watch struct {
	mon *Monitor
	on  func(Warning)
	now []Warning // raised in the current epoch
	all []Warning
	// ended is true during OnEpoch: now is the ended epoch's, which its
	// report carries (MarshalJSON).
	ended bool
}

// NewWatch returns a Watch over a new Monitor; on, if not nil, receives
// each warning as it is raised.
func NewWatch(on func(Warning)) *Watch { return &Watch{mon: NewMonitor(), on: on} }

func (w *Watch) add(ws []Warning) {
	for _, x := range ws {
		w.now, w.all = append(w.now, x), append(w.all, x)
		if w.on != nil {
			w.on(x)
		}
	}
}

// Hooks returns cfg with its OnStep and OnEpoch wrapped so that the
// monitor judges each step and each epoch before cfg's own hook runs:
// exploding gradients are raised after the step that shows them, the
// other warnings after the epoch, before OnEpoch (which can read them
// with Epoch).
func (w *Watch) Hooks(cfg parallel.FitConfig) parallel.FitConfig {
	onStep, onEpoch := cfg.OnStep, cfg.OnEpoch
	cfg.OnStep = func(s parallel.StepInfo) error {
		w.add(w.mon.Step(s.Epoch+1, s.StepResult))
		if onStep != nil {
			return onStep(s)
		}
		return nil
	}
	cfg.OnEpoch = func(e parallel.EpochInfo) error {
		w.add(w.mon.Epoch(e))
		w.ended = true
		err := error(nil)
		if onEpoch != nil {
			err = onEpoch(e)
		}
		w.now, w.ended = nil, false
		return err
	}
	return cfg
}

// Stopped explains the error Fit returned, if it is a non-finite stop (a
// *parallel.NonFiniteError), as exploding gradients.
func (w *Watch) Stopped(err error) {
	var nf *parallel.NonFiniteError
	if errors.As(err, &nf) {
		w.add(w.mon.NonFinite(nf))
	}
}

// Epoch returns the warnings raised during the current epoch: in
// OnEpoch, that epoch's. The slice belongs to the Watch.
func (w *Watch) Epoch() []Warning { return w.now }

// Warnings returns every warning of the run so far.
func (w *Watch) Warnings() []Warning { return w.all }
