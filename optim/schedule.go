package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ScheduleKind is a learning-rate schedule's shape.
type ScheduleKind int

// The schedules, with η₀ the base rate (Config.LR) and e the epoch of the
// step (0-based, counting whole epochs for StepDecay and Exponential,
// fractional ones for Cosine):
const (
	Constant    ScheduleKind = iota // η₀
	StepDecay                       // η₀·γ^⌊e/Every⌋
	Exponential                     // η₀·γ^⌊e⌋
	Cosine                          // Min + (η₀ − Min)·(1 + cos(π·min(e/Epochs, 1)))/2
)

var scheduleNames = [...]string{"constant", "step", "exp", "cosine"}

// String returns the kind's name as ParseSchedule reads it.
func (k ScheduleKind) String() string {
	if k < 0 || int(k) >= len(scheduleNames) {
		return fmt.Sprintf("ScheduleKind(%d)", int(k))
	}
	return scheduleNames[k]
}

// MarshalText writes the kind's name, so that a Schedule is JSON with
// "kind": "cosine".
func (k ScheduleKind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(scheduleNames) {
		return nil, fmt.Errorf("unknown schedule kind %d", int(k))
	}
	return []byte(scheduleNames[k]), nil
}

// UnmarshalText reads a kind's name.
func (k *ScheduleKind) UnmarshalText(b []byte) error {
	for i, n := range scheduleNames {
		if n == string(b) {
			*k = ScheduleKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown schedule kind %q (want %s)", b, strings.Join(scheduleNames[:], ", "))
}

// Schedule gives the learning rate of every step from the base rate
// (Config.LR) and the optimizer's step count, as PyTorch's schedulers do
// wrapped around an optimizer: an Optimizer holds its Schedule
// (Config.Schedule, SetSchedule), Begin takes the step's rate from it, and
// a checkpoint of the optimizer's Config holds it with the step count, so
// a restored optimizer continues on the same curve.
//
// The epoch of step t (0-based) is t/StepsPerEpoch, so the kinds other
// than Constant need StepsPerEpoch: the optimizer steps of one epoch
// (parallel.FitConfig.StepsPerEpoch gives Fit's; Fit refuses a schedule
// of another). Without it every step is in epoch 0. Warm-up, if any,
// scales the rate linearly from 1/Warmup to 1 over the first Warmup steps.
//
// In JSON the fields are named in lower case, and those left zero are left
// out: {"kind": "cosine", "epochs": 30, "steps_per_epoch": 844}.
type Schedule struct {
	Kind   ScheduleKind `json:"kind"`
	Every  float64      `json:"every,omitzero"`  // StepDecay period in epochs
	Gamma  float64      `json:"gamma,omitzero"`  // StepDecay, Exponential factor
	Min    float64      `json:"min,omitzero"`    // Cosine floor
	Epochs float64      `json:"epochs,omitzero"` // Cosine period (the run's length); 0 keeps η₀
	Warmup int          `json:"warmup,omitzero"` // linear warm-up, in steps
	// StepsPerEpoch converts the step count to epochs.
	StepsPerEpoch int `json:"steps_per_epoch,omitzero"`
}

// Validate rejects a schedule no run should use.
func (s Schedule) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case s.Kind < Constant || s.Kind > Cosine:
		return fmt.Errorf("unknown schedule kind %d", int(s.Kind))
	case s.Kind == StepDecay && !(finite(s.Every) && s.Every > 0):
		return fmt.Errorf("schedule step: period %g epochs: must be > 0", s.Every)
	case (s.Kind == StepDecay || s.Kind == Exponential) && !(finite(s.Gamma) && s.Gamma > 0 && s.Gamma <= 1):
		return fmt.Errorf("schedule %v: factor %g: must be in (0, 1]", s.Kind, s.Gamma)
	case !finite(s.Min) || s.Min < 0:
		return fmt.Errorf("schedule %v: minimum rate %g: must be ≥ 0", s.Kind, s.Min)
	case !finite(s.Epochs) || s.Epochs < 0:
		return fmt.Errorf("schedule %v: period %g epochs: must be ≥ 0", s.Kind, s.Epochs)
	case s.Warmup < 0 || s.StepsPerEpoch < 0:
		return fmt.Errorf("schedule %v: warm-up %d and steps per epoch %d: must be ≥ 0", s.Kind, s.Warmup, s.StepsPerEpoch)
	}
	return nil
}

// LR is the rate of step (0-based) from the base rate base.
func (s Schedule) LR(base float64, step int64) float64 {
	e := 0.0
	if s.StepsPerEpoch > 0 {
		e = float64(step) / float64(s.StepsPerEpoch)
	}
	lr := base
	switch s.Kind {
	case StepDecay:
		lr = base * math.Pow(s.Gamma, math.Floor(e/s.Every))
	case Exponential:
		lr = base * math.Pow(s.Gamma, math.Floor(e))
	case Cosine:
		if s.Epochs > 0 {
			lr = s.Min + (base-s.Min)*(1+math.Cos(math.Pi*min(e/s.Epochs, 1)))/2
		}
	}
	if s.Warmup > 0 && step < int64(s.Warmup) {
		lr *= float64(step+1) / float64(s.Warmup)
	}
	return lr
}

// ParseSchedule reads a schedule written as constant, step:EVERY:GAMMA,
// exp:GAMMA or cosine[:MIN]. The cosine period (Epochs), the warm-up and
// StepsPerEpoch are the run's, for the caller to set once it knows them.
func ParseSchedule(s string) (Schedule, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), ":")
	num := func(i int, what string, ok func(float64) bool) (float64, error) {
		v, err := strconv.ParseFloat(parts[i], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || !ok(v) {
			return 0, fmt.Errorf("schedule %q: %s %q is not valid", s, what, parts[i])
		}
		return v, nil
	}
	var sc Schedule
	var err error
	switch {
	case parts[0] == "constant" && len(parts) == 1:
	case parts[0] == "step" && len(parts) == 3:
		sc.Kind = StepDecay
		if sc.Every, err = num(1, "period (epochs)", func(v float64) bool { return v > 0 }); err != nil {
			return Schedule{}, err
		}
		if sc.Gamma, err = num(2, "factor", func(v float64) bool { return v > 0 && v <= 1 }); err != nil {
			return Schedule{}, err
		}
	case parts[0] == "exp" && len(parts) == 2:
		sc.Kind = Exponential
		if sc.Gamma, err = num(1, "factor", func(v float64) bool { return v > 0 && v <= 1 }); err != nil {
			return Schedule{}, err
		}
	case parts[0] == "cosine" && len(parts) <= 2:
		sc.Kind = Cosine
		if len(parts) == 2 {
			if sc.Min, err = num(1, "minimum rate", func(v float64) bool { return v >= 0 }); err != nil {
				return Schedule{}, err
			}
		}
	default:
		return Schedule{}, fmt.Errorf("schedule %q: want constant, step:EVERY:GAMMA, exp:GAMMA or cosine[:MIN]", s)
	}
	return sc, nil
}
