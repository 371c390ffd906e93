package health

import (
	"fmt"
	"math"
	"strings"

	"github.com/ptrain/ptrain/parallel"
)

// Warning is a diagnosis of a training run: what is wrong, the numbers
// that show it, and what to try. A Monitor raises each Code at most once
// per run.
type Warning struct {
	Code    string // stable: one of the Warn* constants
	Layer   string // the layer it names (model.LayerInfo.Name); "" for the whole network
	Message string // the evidence and the advice, one paragraph
	Epoch   int    // 1-based epoch in which it was raised
	Step    int64  // the optimizer step after which it was raised
}

// The warning codes.
const (
	WarnVanishing  = "vanishing-gradient"
	WarnExploding  = "exploding-gradient"
	WarnDeadReLU   = "dead-relu"
	WarnSaturation = "saturation"
	WarnUpdate     = "update-ratio"
)

// The thresholds, chosen from measured runs on the digits, MNIST and iris
// (README, "Reading the gradient figures", has the table):
//
//   - vanishing: the first weight layer's epoch-mean gradient norm below
//     VanishingRatio of the last's. Healthy recipes measured 0.15–3.3
//     (the digits MLP and CNN, MNIST, iris, 8 ReLU layers with He init);
//     8 sigmoid layers of 32 units with Xavier init measured 2e-5 on the
//     digits (issue 13 reports ~1e-5 for PyTorch). Not raised after
//     dead-relu or exploding-gradient, whose small gradients are theirs
//     to explain.
//   - exploding: the global norm ExplodingGrowth times the smallest of the
//     last ExplodingWindow steps while some layer's update is
//     ExplodingUpdate times its weights or more (growth alone fires
//     late in healthy runs, when the norm is small: MNIST measured 56×
//     with updates of 1e-5 of the weights, and with Adam 908× after a
//     step whose gradient was almost zero), or ExplodingGrowthAlone times
//     without layer figures, or a norm above ExplodingNorm, or a
//     non-finite stop. SGD at lr 5 on the digits grew 10–15× within 5
//     steps whose updates were 1–5× the weights; healthy runs' largest
//     updates were 0.5× (SGD at lr 1, the first steps).
//   - dead-relu: more than DeadFrac of a hidden ReLU layer's units dead,
//     as an epoch mean. Healthy: ≤ 13% for the digits, MNIST and iris,
//     up to 45% in one of 8 ReLU layers of 32 units (which learns);
//     lr 5: 85% in its first epoch, then 99%.
//   - saturation: more than SaturatedFrac of a hidden sigmoid/tanh
//     layer's activations saturated (epoch mean). Healthy: ≤ 0.2%.
//   - update-ratio: the largest layer's epoch-mean ‖Δθ‖/‖θ‖ above
//     UpdateHigh, or below UpdateLow while the learning rate is near its
//     peak (a schedule that anneals it is meant to shrink updates).
//     Healthy recipes measured 7e-4–4e-2 at their peak learning rate;
//     lr 5 measured 0.3–0.5.
const (
	VanishingRatio       = 1e-3
	ExplodingGrowth      = 10
	ExplodingUpdate      = 1
	ExplodingGrowthAlone = 1e4
	ExplodingWindow      = 10
	ExplodingNorm        = 1e12
	DeadFrac             = 0.75
	SaturatedFrac        = 0.5
	UpdateHigh           = 0.1
	UpdateLow            = 1e-6
)

// Monitor diagnoses a run from its steps and epochs. Watch feeds one from
// a parallel Fit's hooks; a program driving parallel.Session.Step can feed
// its own: Step after every step, Epoch with parallel.EpochStats'
// summaries (GradNorm and Layers of the parallel.EpochInfo) after every
// epoch, NonFinite on a *parallel.NonFiniteError. Not safe for concurrent
// use.
type Monitor struct {
	raised   map[string]bool
	recent   [ExplodingWindow]float64 // the last global norms, a ring
	n        int64                    // steps seen
	last     []parallel.LayerStats    // the last step's figures (copied)
	lrMax    float64                  // the run's peak learning rate
	epochLR  float64                  // this epoch's peak learning rate
	epoch    int
	lastStep int64
}

// NewMonitor returns a monitor for a run starting now.
func NewMonitor() *Monitor { return &Monitor{raised: map[string]bool{}} }

func (m *Monitor) raise(out []Warning, code, layer, format string, args ...any) []Warning {
	if m.raised[code] {
		return out
	}
	m.raised[code] = true
	return append(out, Warning{Code: code, Layer: layer, Message: fmt.Sprintf(format, args...), Epoch: m.epoch, Step: m.lastStep})
}

// Step takes one step's figures (epoch is 1-based) and returns the
// warnings it raises: exploding gradients are judged step by step.
func (m *Monitor) Step(epoch int, sr parallel.StepResult) []Warning {
	if epoch != m.epoch {
		m.epoch, m.epochLR = epoch, 0
	}
	m.lastStep = sr.Step
	m.lrMax, m.epochLR = max(m.lrMax, sr.LR), max(m.epochLR, sr.LR)
	m.last = append(m.last[:0], sr.Layers...)
	g := sr.GradNorm
	var out []Warning
	lo := math.Inf(1) // the smallest non-zero norm of the window: from a zero gradient any growth is infinite
	for i := range min(m.n, ExplodingWindow) {
		if v := m.recent[i]; v > 0 {
			lo = min(lo, v)
		}
	}
	upd, updLayer := 0.0, ""
	for _, l := range sr.Layers {
		if l.UpdateRatio > upd {
			upd, updLayer = l.UpdateRatio, l.Layer
		}
	}
	growth := g / lo
	// Growth with steps as large as the weights is the feedback loop of
	// divergence; without layer figures, growth alone must be extreme.
	if growth >= ExplodingGrowth && upd >= ExplodingUpdate || len(sr.Layers) == 0 && growth >= ExplodingGrowthAlone || g >= ExplodingNorm {
		layer := m.largest()
		evidence := fmt.Sprintf("the gradient norm grew from %.3g to %.3g within %s (step %d; largest in %s, %.3g)",
			lo, g, steps(min(m.n, ExplodingWindow)), sr.Step, layer, m.layerGrad(layer))
		if updLayer != "" {
			evidence += fmt.Sprintf(", and the step changed %s's weights by %.2g times their norm", updLayer, upd)
		}
		out = m.raise(out, WarnExploding, layer, "%s: the weights are diverging. Lower the learning rate (-lr) by 10x or more, clip the gradient norm (-clip-norm 1), or use Adam", evidence)
	}
	m.recent[m.n%ExplodingWindow] = g
	m.n++
	return out
}

// largest is the layer of the last step with the largest gradient norm.
func (m *Monitor) largest() string {
	best, name := -1.0, ""
	for _, l := range m.last {
		if l.GradNorm > best || math.IsNaN(l.GradNorm) || math.IsInf(l.GradNorm, 0) {
			best, name = l.GradNorm, l.Layer
			if math.IsNaN(best) || math.IsInf(best, 0) {
				break
			}
		}
	}
	return name
}

func (m *Monitor) layerGrad(name string) float64 {
	for _, l := range m.last {
		if l.Layer == name {
			return l.GradNorm
		}
	}
	return math.NaN()
}

// NonFinite explains a non-finite stop (a *parallel.NonFiniteError) as
// exploding gradients, naming the layer of the offending parameter (of
// the largest gradient of the last step for a non-finite loss).
func (m *Monitor) NonFinite(err *parallel.NonFiniteError) []Warning {
	layer := m.largest()
	if err.Param >= 0 {
		layer = layerOf(err.Name)
	}
	lo, hi := math.Inf(1), 0.0
	for i := range min(m.n, ExplodingWindow) {
		lo, hi = min(lo, m.recent[i]), max(hi, m.recent[i])
	}
	evidence := ""
	if m.n > 0 {
		evidence = fmt.Sprintf(" after gradient norms between %.3g and %.3g over the last %s", lo, hi, steps(min(m.n, ExplodingWindow)))
	}
	m.lastStep = err.Step
	return m.raise(nil, WarnExploding, layer, "%v%s: the weights diverged in %s. Lower the learning rate (-lr) by 10x, clip the gradient norm (-clip-norm 1), or use Adam",
		err, evidence, layer)
}

// layerOf turns a parameter name, dense.1.weight[3, 7], into its layer's.
func layerOf(param string) string {
	parts := strings.SplitN(param, ".", 3)
	if len(parts) < 2 {
		return param
	}
	return parts[0] + "." + parts[1]
}

// Epoch judges an epoch's summaries (EpochInfo.Layers) and returns the
// warnings it raises.
func (m *Monitor) Epoch(e parallel.EpochInfo) []Warning {
	m.epoch = e.Epoch
	var out []Warning
	ls := e.Layers
	if len(ls) == 0 {
		return nil
	}
	// Vanishing: the first and last layers with weights (not batch norm,
	// whose few parameters have gradients of another scale).
	first, last := -1, -1
	for i, l := range ls {
		if !strings.HasPrefix(l.Layer, "bn.") {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	// Gradients that vanish because the units died or the weights
	// diverged are those warnings' to explain.
	if first >= 0 && last > first && !m.raised[WarnDeadReLU] && !m.raised[WarnExploding] {
		f, l := ls[first].GradNorm.Mean, ls[last].GradNorm.Mean
		if l > 0 && f/l < VanishingRatio {
			out = m.raise(out, WarnVanishing, ls[first].Layer, "%s's gradient norm is %.2g of %s's (epoch %d means %.3g and %.3g): the first layers are hardly learning. Use ReLU with He initialisation (relu in -arch, -weight-init auto), add batch norm, or make the network shallower",
				ls[first].Layer, f/l, ls[last].Layer, e.Epoch, f, l)
		}
	}
	for _, l := range ls[:len(ls)-1] { // hidden layers: the output's own activation is the task's
		if d := l.DeadFrac.Mean; d > DeadFrac {
			out = m.raise(out, WarnDeadReLU, l.Layer, "%.0f%% of %s's units output zero for every sample of a batch (epoch %d mean): they get no gradient and have stopped learning. Lower the learning rate, use He initialisation, or use leaky ReLU (leakyrelu in -arch)",
				100*d, l.Layer, e.Epoch)
		}
		if s := l.SaturatedFrac.Mean; s > SaturatedFrac {
			out = m.raise(out, WarnSaturation, l.Layer, "%.0f%% of %s's %v activations are within 1%% of their limits (epoch %d mean), where the derivative nearly vanishes. Normalise the inputs (-normalize zscore), use Xavier initialisation, lower the learning rate, or use ReLU",
				100*s, l.Layer, l.Act, e.Epoch)
		}
	}
	// The learning rate is judged by the layer that moves most: one
	// layer's small updates are vanishing gradients, not a small rate.
	hi := -1
	for i, l := range ls {
		if r := l.UpdateRatio.Mean; !math.IsNaN(r) && (hi < 0 || r > ls[hi].UpdateRatio.Mean) {
			hi = i
		}
	}
	if hi < 0 {
		return out
	}
	switch r, l := ls[hi].UpdateRatio.Mean, ls[hi].Layer; {
	case r > UpdateHigh:
		out = m.raise(out, WarnUpdate, l, "each step changes %s's weights by %.2g of their norm (epoch %d mean; about 1e-3 is healthy): the learning rate is far too high. Lower -lr",
			l, r, e.Epoch)
	case r < UpdateLow && m.epochLR >= 0.5*m.lrMax:
		out = m.raise(out, WarnUpdate, l, "each step changes the weights by at most %.2g of their norm (%s, epoch %d mean; about 1e-3 is healthy): the learning rate is far too low. Raise -lr",
			r, l, e.Epoch)
	}
	return out
}

func steps(n int64) string {
	if n == 1 {
		return "1 step"
	}
	return fmt.Sprintf("%d steps", n)
}
