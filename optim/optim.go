package optim

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/ptrain/ptrain/model/num"
)

// Method is an update rule.
type Method int

// The update rules. With g the gradient (plus λ·p when WeightDecay λ is
// coupled), p the parameter, η the learning rate and t the step number
// from 1:
const (
	// SGD is torch.optim.SGD with dampening 0: p ← p − η·g when Momentum
	// μ is 0; with μ > 0, v ← μ·v + g (v starts at 0, so that v = g after
	// the first step, as PyTorch's buffer) and p ← p − η·v, or with
	// Nesterov set p ← p − η·(g + μ·v).
	SGD Method = iota
	// Momentum is SGD with μ = 0.9 by default, a name kept for older
	// configs: v ← μ·v + g; p ← p − η·v.
	Momentum
	// Nesterov is SGD with Nesterov set and μ = 0.9 by default:
	// v ← μ·v + g; p ← p − η·(g + μ·v).
	Nesterov
	// RMSprop: s ← α·s + (1−α)·g²; p ← p − η·g/(√s + ε). With μ > 0:
	// b ← μ·b + g/(√s + ε); p ← p − η·b.
	RMSprop
	// Adam: m ← β₁·m + (1−β₁)·g; v ← β₂·v + (1−β₂)·g²;
	// p ← p − (η/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε). WeightDecay is coupled L2.
	Adam
	// AdamW: p ← p·(1 − η·λ), then the Adam update; λ is WeightDecay.
	AdamW
)

var methodNames = [...]string{"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"}

// String returns the method's name as ParseMethod reads it, or "Method(n)"
// for a value outside the constants.
func (m Method) String() string {
	if m < 0 || int(m) >= len(methodNames) {
		return fmt.Sprintf("Method(%d)", int(m))
	}
	return methodNames[m]
}

// MarshalText writes the method's name, so that a Config is JSON with
// "method": "adam".
func (m Method) MarshalText() ([]byte, error) {
	if m < 0 || int(m) >= len(methodNames) {
		return nil, fmt.Errorf("unknown optimizer method %d", int(m))
	}
	return []byte(methodNames[m]), nil
}

// UnmarshalText reads a method's name, as ParseMethod does.
func (m *Method) UnmarshalText(b []byte) error {
	v, err := ParseMethod(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ParseMethod reads a method name.
func ParseMethod(s string) (Method, error) {
	for i, n := range methodNames {
		if n == strings.ToLower(s) {
			return Method(i), nil
		}
	}
	return 0, fmt.Errorf("unknown optimizer %q (want %s)", s, strings.Join(methodNames[:], ", "))
}

// Config holds an optimizer's hyperparameters. Start from Defaults, which
// gives PyTorch's defaults, and change what you need.
//
// In JSON (a checkpoint's ptrain.optimizer) the fields are named in lower
// case as PyTorch's arguments: {"method": "adam", "lr": 0.001, ...}.
type Config struct {
	Method Method  `json:"method"`
	LR     float64 `json:"lr"` // η
	// Momentum is μ for SGD (default 0, as PyTorch's), for Momentum and
	// Nesterov (default 0.9) and for RMSprop (default 0).
	Momentum float64 `json:"momentum"`
	// Nesterov makes SGD's momentum Nesterov's (PyTorch's nesterov=True);
	// it needs Momentum > 0.
	Nesterov    bool    `json:"nesterov"`
	Alpha       float64 `json:"alpha"`        // RMSprop smoothing α (0.99)
	Beta1       float64 `json:"beta1"`        // Adam β₁ (0.9)
	Beta2       float64 `json:"beta2"`        // Adam β₂ (0.999)
	Eps         float64 `json:"eps"`          // ε (1e-8), added outside the square root
	WeightDecay float64 `json:"weight_decay"` // L2 coefficient λ on every parameter, biases included, as PyTorch's weight_decay: g ← g + λ·p; decoupled for AdamW (0.01)
	// Schedule sets each step's rate from LR (see Schedule); the zero
	// value keeps it constant, and is left out of the JSON.
	Schedule Schedule `json:"schedule,omitzero"`
}

// Uses reports whether the method reads the named hyperparameter (the
// Config field's name in lower case: "momentum", "nesterov", "alpha",
// "beta1", "beta2", "eps"; "lr" and "weight_decay" are used by every
// method). PyTorch's constructors reject the others, and so should a
// caller that lets users set them.
func (m Method) Uses(param string) bool {
	switch param {
	case "lr", "weight_decay":
		return true
	case "momentum":
		return m == SGD || m == Momentum || m == Nesterov || m == RMSprop
	case "nesterov":
		return m == SGD || m == Momentum || m == Nesterov
	case "alpha":
		return m == RMSprop
	case "beta1", "beta2":
		return m == Adam || m == AdamW
	case "eps":
		return m == RMSprop || m == Adam || m == AdamW
	}
	return false
}

// heavyBall reports whether the update keeps a momentum buffer the SGD way.
func (c *Config) heavyBall() bool {
	return c.Method == Momentum || c.Method == Nesterov || (c.Method == SGD && c.Momentum > 0)
}

// nesterov reports whether the SGD-family update is Nesterov's.
func (c *Config) nesterov() bool {
	return c.Method == Nesterov || (c.heavyBall() && c.Nesterov)
}

// Defaults returns PyTorch's default hyperparameters for m.
func Defaults(m Method) Config {
	c := Config{Method: m, Alpha: 0.99, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	switch m {
	case SGD:
		c.LR = 0.01
	case Momentum, Nesterov:
		c.LR, c.Momentum = 0.01, 0.9
	case RMSprop:
		c.LR = 0.01
	case Adam:
		c.LR = 0.001
	case AdamW:
		c.LR, c.WeightDecay = 0.001, 0.01
	}
	return c
}

// Validate rejects hyperparameters no run should use.
func (c Config) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.Method < SGD || c.Method > AdamW:
		return fmt.Errorf("unknown optimizer method %d", c.Method)
	case !finite(c.LR) || c.LR < 0:
		return fmt.Errorf("learning rate %g: must be a finite number ≥ 0", c.LR)
	case !finite(c.Momentum) || c.Momentum < 0 || c.Momentum >= 1:
		return fmt.Errorf("momentum %g: must be in [0, 1)", c.Momentum)
	case c.Nesterov && !c.Method.Uses("nesterov"):
		return fmt.Errorf("nesterov applies to sgd, not %v", c.Method)
	case (c.Method == Nesterov || c.Nesterov) && c.Momentum == 0:
		return fmt.Errorf("nesterov needs momentum > 0")
	case !finite(c.Alpha) || c.Alpha < 0 || c.Alpha >= 1:
		return fmt.Errorf("alpha %g: must be in [0, 1)", c.Alpha)
	case !finite(c.Beta1) || c.Beta1 < 0 || c.Beta1 >= 1:
		return fmt.Errorf("beta1 %g: must be in [0, 1)", c.Beta1)
	case !finite(c.Beta2) || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("beta2 %g: must be in [0, 1)", c.Beta2)
	case !finite(c.Eps) || c.Eps < 0:
		return fmt.Errorf("eps %g: must be ≥ 0", c.Eps)
	case !finite(c.WeightDecay) || c.WeightDecay < 0:
		return fmt.Errorf("weight decay %g: must be ≥ 0", c.WeightDecay)
	case (c.Method == RMSprop || c.Method == Adam || c.Method == AdamW) && c.Eps == 0:
		return fmt.Errorf("eps must be > 0 for %v", c.Method)
	}
	return c.Schedule.Validate()
}

// Optimizer holds a method's state for n parameters.
//
// Concurrency: Begin must not run concurrently with anything else; after
// it, Apply may run concurrently on disjoint ranges.
type Optimizer[T num.Float] struct {
	cfg Config
	n   int
	t   int64   // steps begun
	lr  float64 // η of the current step
	bc1 float64 // Adam: 1 − β₁ᵗ
	bc2 float64 // Adam: √(1 − β₂ᵗ)
	// state1 and state2 are the method's state, one value per parameter
	// (nil where the method has none), in the order of names: state1 is
	// SGD's momentum_buffer, RMSprop's square_avg or Adam's exp_avg;
	// state2 is RMSprop's momentum_buffer or Adam's exp_avg_sq.
	state1 []T
	state2 []T

	scratchOnce sync.Once
	scratch     []T // gradient plus the L2 term, when that is on
}

// New returns an optimizer for n parameters, or an error if cfg is invalid.
func New[T num.Float](cfg Config, n int) (*Optimizer[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &Optimizer[T]{cfg: cfg, n: n, lr: cfg.LR}
	switch {
	case cfg.heavyBall():
		o.state1 = num.Alloc[T](n)
	case cfg.Method == RMSprop:
		o.state1 = num.Alloc[T](n)
		if cfg.Momentum > 0 {
			o.state2 = num.Alloc[T](n)
		}
	case cfg.Method == Adam || cfg.Method == AdamW:
		o.state1, o.state2 = num.Alloc[T](n), num.Alloc[T](n)
	}
	return o, nil
}

// Config returns the hyperparameters.
func (o *Optimizer[T]) Config() Config { return o.cfg }

// Len is the number of parameters the optimizer was made for.
func (o *Optimizer[T]) Len() int { return o.n }

// Steps is the number of steps begun so far.
func (o *Optimizer[T]) Steps() int64 { return o.t }

// Step applies one whole update: Begin and Apply over everything.
func (o *Optimizer[T]) Step(params, grads []T) {
	o.Begin()
	o.Apply(params, grads, 0, len(params))
}

// Begin starts the next step, at the rate the schedule gives it
// (Config.Schedule.LR of the base rate and the steps taken before).
func (o *Optimizer[T]) Begin() {
	o.begin(o.cfg.Schedule.LR(o.cfg.LR, o.t))
}

// BeginLR starts the next step at rate lr instead of the schedule's: for a
// caller that computes its rates itself.
func (o *Optimizer[T]) BeginLR(lr float64) { o.begin(lr) }

func (o *Optimizer[T]) begin(lr float64) {
	o.t++
	o.lr = lr
	o.bc1 = 1 - math.Pow(o.cfg.Beta1, float64(o.t))
	o.bc2 = math.Sqrt(1 - math.Pow(o.cfg.Beta2, float64(o.t)))
}

// LR is the rate of the step begun last (the base rate before any).
func (o *Optimizer[T]) LR() float64 { return o.lr }

// SetSchedule replaces the schedule, as a run that resumes with a longer
// period, say, does; the step count stays. It returns an error, and keeps
// the schedule it had, if s is invalid (Schedule.Validate). Like Begin, it
// must not run concurrently with anything else on the Optimizer.
func (o *Optimizer[T]) SetSchedule(s Schedule) error {
	if err := s.Validate(); err != nil {
		return err
	}
	o.cfg.Schedule = s
	return nil
}

// Apply performs the current step's update of params[lo:hi] from
// grads[lo:hi]. grads is read, never written.
func (o *Optimizer[T]) Apply(params, grads []T, lo, hi int) {
	if len(params) != o.n || len(grads) != o.n || lo < 0 || hi > o.n || lo > hi {
		panic(fmt.Sprintf("optim: Apply [%d, %d) to %d params and %d grads, optimizer for %d", lo, hi, len(params), len(grads), o.n))
	}
	if o.t == 0 {
		panic("optim: Apply before Begin")
	}
	c := &o.cfg
	lr, mu, wd := o.lr, c.Momentum, c.WeightDecay
	p, g := params[lo:hi], grads[lo:hi]
	if c.Method != AdamW && wd != 0 {
		// Add the L2 term into a scratch copy of the gradient, so that the
		// update loops below stay simple and grads is never written. The
		// scratch view is per call: Apply runs concurrently on disjoint
		// ranges.
		gg := o.regularized(lo, hi)
		for i, v := range g {
			gg[i] = T(float64(v) + wd*float64(p[i]))
		}
		g = gg
	}
	switch {
	case c.heavyBall():
		v := o.state1[lo:hi]
		k := momentumKernel{lr: lr, mu: mu, nesterov: c.nesterov()}
		switch {
		case num.Is32[T]() && (haveAVX || k.nesterov):
			k.run32(num.As32(p), num.As32(g), num.As32(v))
		case k.nesterov:
			// g + μ·v is rounded on its own before η multiplies it, as in
			// the kernel; vector passes would need a third buffer for it.
			k.run64(num.As64(p), num.As64(g), num.As64(v))
		default:
			// v = μ·v + g; p −= η·v as assembly vector passes (gonum's,
			// or the BLAS's): 1.06 ns per parameter here against 1.7 for
			// one fused loop in Go. With gonum's kernels these are the
			// kernel's roundings; OpenBLAS's (vectors of 4096 elements and
			// more with -tags openblas) may fuse the multiply-add.
			num.Scal(T(mu), v)
			num.Axpy(1, g, v)
			num.Axpy(T(-lr), v, p)
		}
	case c.Method == SGD:
		num.Axpy(T(-lr), g, p)
	case c.Method == RMSprop:
		var b []T
		if o.state2 != nil {
			b = o.state2[lo:hi]
		}
		k := rmspropKernel{lr: lr, alpha: c.Alpha, eps: c.Eps, mu: mu}
		if num.Is32[T]() {
			k.run32(num.As32(p), num.As32(g), num.As32(o.state1[lo:hi]), num.As32(b))
		} else {
			k.run64(num.As64(p), num.As64(g), num.As64(o.state1[lo:hi]), num.As64(b))
		}
	case c.Method == Adam || c.Method == AdamW:
		k := adamKernel{b1: c.Beta1, b2: c.Beta2, eps: c.Eps, stepSize: lr / o.bc1, bc2: o.bc2, decay: 1}
		if c.Method == AdamW {
			k.decay = 1 - lr*wd
		}
		if num.Is32[T]() {
			k.run32(num.As32(p), num.As32(g), num.As32(o.state1[lo:hi]), num.As32(o.state2[lo:hi]))
		} else {
			k.run64(num.As64(p), num.As64(g), num.As64(o.state1[lo:hi]), num.As64(o.state2[lo:hi]))
		}
	}
}

// regularized returns scratch space for the regularised gradient of
// [lo, hi): a view of a buffer of the parameters' length, allocated once.
func (o *Optimizer[T]) regularized(lo, hi int) []T {
	o.scratchOnce.Do(func() { o.scratch = num.Alloc[T](o.n) })
	return o.scratch[lo:hi]
}

// State is an optimizer's state in a form a checkpoint can hold: the step
// count and named buffers in the parameter layout (PyTorch's names).
type State[T num.Float] struct {
	Step    int64
	Buffers map[string][]T
}

// names are PyTorch's state keys of state1 and state2.
func (o *Optimizer[T]) names() (name1, name2 string) {
	switch {
	case o.cfg.heavyBall():
		return "momentum_buffer", ""
	case o.cfg.Method == RMSprop:
		return "square_avg", "momentum_buffer"
	case o.cfg.Method == Adam || o.cfg.Method == AdamW:
		return "exp_avg", "exp_avg_sq"
	}
	return "", ""
}

// State returns the step count and views of the state buffers (not copies).
func (o *Optimizer[T]) State() State[T] {
	st := State[T]{Step: o.t, Buffers: map[string][]T{}}
	name1, name2 := o.names()
	if o.state1 != nil {
		st.Buffers[name1] = o.state1
	}
	if o.state2 != nil {
		st.Buffers[name2] = o.state2
	}
	return st
}

// LoadState copies st into the optimizer. The buffers must be exactly the
// ones State returns, with the optimizer's length.
func (o *Optimizer[T]) LoadState(st State[T]) error {
	if st.Step < 0 {
		return fmt.Errorf("optimizer state: negative step %d", st.Step)
	}
	want := o.State().Buffers
	if len(st.Buffers) != len(want) {
		return fmt.Errorf("optimizer state: %d buffers, %v needs %d", len(st.Buffers), o.cfg.Method, len(want))
	}
	for name, dst := range want {
		src, ok := st.Buffers[name]
		if !ok {
			return fmt.Errorf("optimizer state: no %q buffer for %v", name, o.cfg.Method)
		}
		if len(src) != len(dst) {
			return fmt.Errorf("optimizer state: %q has %d values, want %d", name, len(src), len(dst))
		}
	}
	for name, dst := range want {
		copy(dst, st.Buffers[name])
	}
	o.t = st.Step
	if o.t > 0 { // the bias corrections and rate of the last step
		o.t--
		o.Begin()
	}
	return nil
}
