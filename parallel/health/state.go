package health

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/parallel"
)

// A Monitor's judgement depends on the run so far: the codes it has
// raised (each only once a run), the last ExplodingWindow gradient norms,
// the peak learning rates. A run resumed from a checkpoint with a new
// Monitor would raise again what was raised before the interruption and
// judge the first steps after it on a short window. MarshalJSON and
// UnmarshalJSON carry that state through the checkpoint, next to the
// run's parallel.Progress, so the resumed diagnosis is the uninterrupted
// one. Floats are kept as their IEEE 754 bits, as package checkpoint keeps
// parallel.EpochSums: exact, and NaN (a layer without a dead fraction)
// has no JSON number.

// Limits on a state read back: more is no monitor's.
const (
	maxStateLayers  = 1 << 16 // layers of the last step's figures
	maxStateName    = 1 << 10 // bytes of a layer's name
	maxStateMessage = 1 << 14 // bytes of a warning's message
	// maxStateSteps bounds the steps seen and the last step's number: far
	// more than any run takes, and far enough from 2⁶³ that counting on
	// from it cannot wrap to a negative ring position.
	maxStateSteps = 1 << 53
)

type stateJSON struct {
	Raised      []string    `json:"raised"`
	RecentBits  []uint64    `json:"recent_bits"` // the ring of the last norms, ExplodingWindow long
	Steps       int64       `json:"steps"`       // steps seen
	Last        []layerJSON `json:"last"`        // the last step's per-layer figures
	LRMaxBits   uint64      `json:"lr_max_bits"`
	EpochLRBits uint64      `json:"epoch_lr_bits"`
	Epoch       int         `json:"epoch"`
	LastStep    int64       `json:"last_step"`
	// A Watch's: every warning of the run, the last Current of them
	// raised in the epoch in progress.
	Warnings []warningJSON `json:"warnings,omitempty"`
	Current  int           `json:"current,omitempty"`
}

type layerJSON struct {
	Layer string `json:"layer"`
	Act   int    `json:"act"`
	// GradNorm, WeightNorm, UpdateRatio, DeadFrac, SaturatedFrac.
	Bits [5]uint64 `json:"bits"`
}

type warningJSON struct {
	Code    string `json:"code"`
	Layer   string `json:"layer"`
	Message string `json:"message"`
	Epoch   int    `json:"epoch"`
	Step    int64  `json:"step"`
}

var codes = []string{WarnVanishing, WarnExploding, WarnDeadReLU, WarnSaturation, WarnUpdate}

func (m *Monitor) state() stateJSON {
	s := stateJSON{Raised: []string{}, Steps: m.n, Last: []layerJSON{}, LRMaxBits: math.Float64bits(m.lrMax),
		EpochLRBits: math.Float64bits(m.epochLR), Epoch: m.epoch, LastStep: m.lastStep}
	for _, c := range codes { // a fixed order: the same state gives the same bytes
		if m.raised[c] {
			s.Raised = append(s.Raised, c)
		}
	}
	for _, v := range m.recent {
		s.RecentBits = append(s.RecentBits, math.Float64bits(v))
	}
	for _, l := range m.last {
		s.Last = append(s.Last, layerJSON{Layer: l.Layer, Act: int(l.Act), Bits: [5]uint64{math.Float64bits(l.GradNorm),
			math.Float64bits(l.WeightNorm), math.Float64bits(l.UpdateRatio), math.Float64bits(l.DeadFrac), math.Float64bits(l.SaturatedFrac)}})
	}
	return s
}

// MarshalJSON returns the monitor's state: a Monitor given it by
// UnmarshalJSON judges the rest of the run as this one would.
func (m *Monitor) MarshalJSON() ([]byte, error) { return json.Marshal(m.state()) }

// UnmarshalJSON sets the monitor to a state MarshalJSON returned, after
// checking that a monitor could have reached it; on error m is unchanged.
func (m *Monitor) UnmarshalJSON(b []byte) error {
	var s stateJSON
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("health state: %w", err)
	}
	r, err := s.monitor()
	if err != nil {
		return err
	}
	*m = *r
	return nil
}

// monitor is the Monitor s describes, or why none could be in it.
func (s *stateJSON) monitor() (*Monitor, error) {
	switch {
	case s.Steps < 0 || s.Epoch < 0 || s.LastStep < 0:
		return nil, fmt.Errorf("health state: %d steps seen, epoch %d, step %d: must be ≥ 0", s.Steps, s.Epoch, s.LastStep)
	case s.Steps > maxStateSteps || s.LastStep > maxStateSteps:
		return nil, fmt.Errorf("health state: %d steps seen, step %d: more than the limit of %d", s.Steps, s.LastStep, int64(maxStateSteps))
	case len(s.RecentBits) != ExplodingWindow:
		return nil, fmt.Errorf("health state: %d recent gradient norms, want %d", len(s.RecentBits), ExplodingWindow)
	case len(s.Last) > maxStateLayers:
		return nil, fmt.Errorf("health state: %d layers, more than the limit of %d", len(s.Last), maxStateLayers)
	}
	m := NewMonitor()
	for _, c := range s.Raised {
		if !slices.Contains(codes, c) || m.raised[c] {
			return nil, fmt.Errorf("health state: raised %.100q: not a warning code, or twice", c)
		}
		m.raised[c] = true
	}
	for i, b := range s.RecentBits {
		m.recent[i] = math.Float64frombits(b)
	}
	for _, l := range s.Last {
		if len(l.Layer) > maxStateName {
			return nil, fmt.Errorf("health state: a layer's name of %d bytes, more than the limit of %d", len(l.Layer), maxStateName)
		}
		f := func(i int) float64 { return math.Float64frombits(l.Bits[i]) }
		m.last = append(m.last, parallel.LayerStats{Layer: l.Layer, Act: model.ActKind(l.Act), GradNorm: f(0), WeightNorm: f(1), UpdateRatio: f(2), DeadFrac: f(3), SaturatedFrac: f(4)})
	}
	m.n, m.epoch, m.lastStep = s.Steps, s.Epoch, s.LastStep
	m.lrMax, m.epochLR = math.Float64frombits(s.LRMaxBits), math.Float64frombits(s.EpochLRBits)
	return m, nil
}

// MarshalJSON returns the Watch's state: its Monitor's, every warning of
// the run, and which of them the epoch in progress raised (none once its
// OnEpoch hook has begun: that epoch's report has them). Saved with the
// run's parallel.Progress, a Watch given it by UnmarshalJSON reports the
// resumed run's warnings as the uninterrupted run's Watch would.
func (w *Watch) MarshalJSON() ([]byte, error) {
	s := w.mon.state()
	for _, x := range w.all {
		s.Warnings = append(s.Warnings, warningJSON{Code: x.Code, Layer: x.Layer, Message: x.Message, Epoch: x.Epoch, Step: x.Step})
	}
	if !w.ended {
		s.Current = len(w.now)
	}
	return json.Marshal(s)
}

// UnmarshalJSON sets the Watch to a state MarshalJSON returned, after
// checking it; on error w is unchanged. Its callback is kept, and not
// called for the warnings restored.
func (w *Watch) UnmarshalJSON(b []byte) error {
	var s stateJSON
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("health state: %w", err)
	}
	m, err := s.monitor()
	if err != nil {
		return err
	}
	if s.Current < 0 || s.Current > len(s.Warnings) {
		return fmt.Errorf("health state: %d warnings of the current epoch, of %d", s.Current, len(s.Warnings))
	}
	var all []Warning
	seen := map[string]bool{}
	for _, x := range s.Warnings {
		switch {
		case !m.raised[x.Code] || seen[x.Code]:
			return fmt.Errorf("health state: warning %.100q: not raised, or twice", x.Code)
		case len(x.Layer) > maxStateName || len(x.Message) > maxStateMessage:
			return fmt.Errorf("health state: warning %s: a layer of %d bytes or a message of %d, more than the limits of %d and %d", x.Code, len(x.Layer), len(x.Message), maxStateName, maxStateMessage)
		}
		seen[x.Code] = true
		all = append(all, Warning{Code: x.Code, Layer: x.Layer, Message: x.Message, Epoch: x.Epoch, Step: x.Step})
	}
	w.mon, w.all, w.ended = m, all, false
	w.now = slices.Clone(all[len(all)-s.Current:])
	return nil
}
