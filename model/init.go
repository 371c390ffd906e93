package model

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Init is a weight initialisation scheme. Biases always start at zero.
type Init int

// The schemes. InitAuto picks He (Kaiming) uniform for the ReLU family and
// Xavier (Glorot) uniform for every other activation.
const (
	InitAuto Init = iota
	XavierUniform
	XavierNormal
	HeUniform
	HeNormal
	// TorchDefault is PyTorch's default for nn.Linear and nn.Conv2d:
	// weights and biases from U(−1/sqrt(fan_in), 1/sqrt(fan_in)).
	TorchDefault
)

var initNames = [...]string{"auto", "xavier-uniform", "xavier-normal", "he-uniform", "he-normal", "torch"}

// String is the scheme's name, as ParseInit reads it.
func (i Init) String() string {
	if i < 0 || int(i) >= len(initNames) {
		return fmt.Sprintf("Init(%d)", int(i))
	}
	return initNames[i]
}

// ParseInit reads an initialisation name.
func ParseInit(s string) (Init, error) {
	for i, n := range initNames {
		if n == s {
			return Init(i), nil
		}
	}
	return 0, fmt.Errorf("unknown initialisation %q (want auto, xavier-uniform, xavier-normal, he-uniform, he-normal or torch)", s)
}

// Initialize draws every weight (dense and conv) from the scheme with a
// PCG stream seeded by seed, layer by layer, and zeroes the biases; batch
// norm starts at scale 1, shift 0, running mean 0 and variance 1. The same
// seed gives the same weights for either element type (draws are made in
// float64 and rounded).
//
//	Xavier uniform: U(-a, a), a = gain·sqrt(6/(fan_in+fan_out))
//	Xavier normal:  N(0, σ²), σ = gain·sqrt(2/(fan_in+fan_out))
//	He uniform:     U(-a, a), a = gain·sqrt(3/fan_in)
//	He normal:      N(0, σ²), σ = gain/sqrt(fan_in)
//	torch:          U(-a, a), a = 1/sqrt(fan_in), biases too
//
// with gain sqrt(2/(1+slope²)) for ReLU and leaky ReLU under He, 1 otherwise
// (PyTorch's torch.nn.init conventions). A conv weight (out, in, kh, kw)
// has fan_in = in·kh·kw and fan_out = out·kh·kw. InitAuto takes He for a
// layer whose activation is in the ReLU family — its own, or for a layer
// without one that a batch norm alone reads, the batch norm's — and Xavier
// otherwise.
func (m *Model[T]) Initialize(seed uint64, scheme Init) error {
	if scheme < InitAuto || scheme > TorchDefault {
		return fmt.Errorf("unknown initialisation %d", scheme)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	m.resetNorm()
	for li, info := range m.Layout.Layers {
		if info.FanIn == 0 {
			continue
		}
		act := m.Layout.actAfter(li)
		relu := act.Kind == ReLU || act.Kind == LeakyReLU
		s := scheme
		if s == InitAuto {
			s = XavierUniform
			if relu {
				s = HeUniform
			}
		}
		fanIn, fanOut := float64(info.FanIn), float64(info.FanOut)
		gain := 1.0
		if (s == HeUniform || s == HeNormal) && relu {
			slope := 0.0
			if act.Kind == LeakyReLU {
				slope = act.Slope
			}
			gain = math.Sqrt(2 / (1 + slope*slope))
		}
		var draw func() float64
		switch s {
		case XavierUniform:
			a := gain * math.Sqrt(6/(fanIn+fanOut))
			draw = func() float64 { return (2*rng.Float64() - 1) * a }
		case XavierNormal:
			sd := gain * math.Sqrt(2/(fanIn+fanOut))
			draw = func() float64 { return rng.NormFloat64() * sd }
		case HeUniform:
			a := gain * math.Sqrt(3/fanIn)
			draw = func() float64 { return (2*rng.Float64() - 1) * a }
		case HeNormal:
			sd := gain / math.Sqrt(fanIn)
			draw = func() float64 { return rng.NormFloat64() * sd }
		case TorchDefault:
			a := 1 / math.Sqrt(fanIn)
			draw = func() float64 { return (2*rng.Float64() - 1) * a }
		}
		for _, t := range info.Params { // weights, then biases, as the kind lists them
			dst := m.Params[t.Offset : t.Offset+t.Size()]
			switch {
			case t.Role == RoleWeight, t.Role == RoleBias && s == TorchDefault:
				for i := range dst {
					dst[i] = T(draw())
				}
			case t.Role == RoleBias:
				clear(dst)
			}
		}
	}
	return nil
}

// actAfter is the activation that follows layer l's output: its own, or
// for a layer without one whose only reader is a batch norm, the batch
// norm's.
func (lay Layout) actAfter(l int) Activation {
	act := lay.Layers[l].Spec.Act
	if act.Kind != Identity || l+1 >= len(lay.Layers) || lay.Layers[l+1].Spec.Kind != KindBatchNorm || !soleReader(lay, l, l+1) {
		return act
	}
	return lay.Layers[l+1].Spec.Act
}
