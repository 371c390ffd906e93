package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ScheduleKind is a learning-rate schedule's shape.
type ScheduleKind int

// The schedules, with η₀ the base rate and e the epoch (0-based, counting
// whole epochs for Step and Exp, fractional ones for Cosine):
const (
	Constant    ScheduleKind = iota // η₀
	StepDecay                       // η₀·γ^⌊e/Every⌋
	Exponential                     // η₀·γ^⌊e⌋
	Cosine                          // Min + (η₀ − Min)·(1 + cos(π·e/Epochs))/2
)

// Schedule gives the learning rate of every step. Warm-up, if any, scales
// the rate linearly from 1/Warmup to 1 over the first Warmup steps.
type Schedule struct {
	Kind   ScheduleKind
	Every  float64 // StepDecay period in epochs
	Gamma  float64 // StepDecay, Exponential factor
	Min    float64 // Cosine floor
	Epochs float64 // Cosine period (the run's length)
	Warmup int     // linear warm-up, in steps
}

// LR is the rate for step (0-based) taken at fractional epoch e.
func (s Schedule) LR(base float64, step int64, e float64) float64 {
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
// exp:GAMMA or cosine[:MIN]. epochs is the run's length, the cosine period.
func ParseSchedule(s string, epochs int) (Schedule, error) {
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
		sc.Kind, sc.Epochs = Cosine, float64(epochs)
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
