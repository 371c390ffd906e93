package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ptrain/ptrain/model/num"
)

// Model is a feed-forward network of dense layers whose weights and biases
// all live in one flat buffer, Params. Layer l occupies
// Params[Layers[l].Offset:] as its weight matrix (Out, In), row-major —
// the layout of PyTorch's nn.Linear.weight — followed by its bias (Out).
// A gradient buffer or optimizer state of len(Params) uses the same layout.
//
// A Model holds no per-batch state: forward and backward passes run in a
// Workspace, and any number of workspaces may read one Model concurrently
// as long as nothing writes Params meanwhile.
type Model[T num.Float] struct {
	Spec   Spec
	Params []T
	Layers []Dense[T]
}

// Dense is a view of one fully connected layer inside a Model's Params.
type Dense[T num.Float] struct {
	In, Out int
	Act     Activation
	Dropout float64
	Offset  int           // index of W's first element in Params
	W       num.Matrix[T] // (Out, In)
	B       []T           // (Out)
}

// New builds a model with all parameters zero. Call Initialize for a
// random initialisation, or fill Params (Load does).
func New[T num.Float](spec Spec) (*Model[T], error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	m := &Model[T]{Spec: spec, Params: num.Alloc[T](spec.NumParams())}
	m.bind()
	return m, nil
}

// bind points the layer views into Params.
func (m *Model[T]) bind() {
	m.Layers = m.Layers[:0]
	off, in := 0, m.Spec.Inputs
	for _, l := range m.Spec.Layers {
		d := Dense[T]{In: in, Out: l.Units, Act: l.Act, Dropout: l.Dropout, Offset: off}
		d.W = num.View(l.Units, in, m.Params[off:])
		d.B = m.Params[off+l.Units*in : off+l.Units*in+l.Units]
		m.Layers = append(m.Layers, d)
		off += l.Units*in + l.Units
		in = l.Units
	}
}

// WeightsIn returns the views of layer l's weight (Out, In) and bias (Out)
// inside buf, a buffer with the layout of Params (a gradient, say).
func (d *Dense[T]) WeightsIn(buf []T) (num.Matrix[T], []T) {
	w := num.View(d.Out, d.In, buf[d.Offset:])
	o := d.Offset + d.Out*d.In
	return w, buf[o : o+d.Out]
}

// Clone returns a deep copy.
func (m *Model[T]) Clone() *Model[T] {
	c := &Model[T]{Spec: m.Spec, Params: num.Alloc[T](len(m.Params))}
	copy(c.Params, m.Params)
	c.bind()
	return c
}

// Convert returns a copy of m with parameters of another element type.
func Convert[U, T num.Float](m *Model[T]) *Model[U] {
	c := &Model[U]{Spec: m.Spec, Params: num.Alloc[U](len(m.Params))}
	for i, v := range m.Params {
		c.Params[i] = U(v)
	}
	c.bind()
	return c
}

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
)

var initNames = [...]string{"auto", "xavier-uniform", "xavier-normal", "he-uniform", "he-normal"}

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
	return 0, fmt.Errorf("unknown initialisation %q (want auto, xavier-uniform, xavier-normal, he-uniform or he-normal)", s)
}

// Initialize draws every weight from the scheme with a PCG stream seeded by
// seed, and zeroes the biases. The same seed gives the same weights for
// either element type (draws are made in float64 and rounded).
//
//	Xavier uniform: U(-a, a), a = gain·sqrt(6/(fan_in+fan_out))
//	Xavier normal:  N(0, σ²), σ = gain·sqrt(2/(fan_in+fan_out))
//	He uniform:     U(-a, a), a = gain·sqrt(3/fan_in)
//	He normal:      N(0, σ²), σ = gain/sqrt(fan_in)
//
// with gain sqrt(2/(1+slope²)) for ReLU and leaky ReLU under He, 1 otherwise
// (PyTorch's torch.nn.init conventions).
func (m *Model[T]) Initialize(seed uint64, scheme Init) error {
	if scheme < InitAuto || scheme > HeNormal {
		return fmt.Errorf("unknown initialisation %d", scheme)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for _, d := range m.Layers {
		s := scheme
		if s == InitAuto {
			s = XavierUniform
			if d.Act.Kind == ReLU || d.Act.Kind == LeakyReLU {
				s = HeUniform
			}
		}
		fanIn, fanOut := float64(d.In), float64(d.Out)
		gain := 1.0
		if (s == HeUniform || s == HeNormal) && (d.Act.Kind == ReLU || d.Act.Kind == LeakyReLU) {
			slope := 0.0
			if d.Act.Kind == LeakyReLU {
				slope = d.Act.Slope
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
		}
		for i := range d.W.Data {
			d.W.Data[i] = T(draw())
		}
		clear(d.B)
	}
	return nil
}

// ParamName describes parameter i as "dense.<l>.weight[r, c]" or
// "dense.<l>.bias[r]" (the safetensors names), for error messages.
func (m *Model[T]) ParamName(i int) string {
	for l, d := range m.Layers {
		nw := d.Out * d.In
		switch {
		case i >= d.Offset && i < d.Offset+nw:
			k := i - d.Offset
			return fmt.Sprintf("%s[%d, %d]", WeightName(l), k/d.In, k%d.In)
		case i >= d.Offset+nw && i < d.Offset+nw+d.Out:
			return fmt.Sprintf("%s[%d]", BiasName(l), i-d.Offset-nw)
		}
	}
	return fmt.Sprintf("parameter %d (out of range)", i)
}
