package model

import (
	"fmt"
	"strconv"
	"strings"
)

// ActKind is an activation function.
type ActKind int

// The activations. Identity is the zero value: a layer with no activation
// is linear.
const (
	Identity ActKind = iota
	Sigmoid
	Tanh
	ReLU
	LeakyReLU
	Softmax
)

var actNames = [...]string{"identity", "sigmoid", "tanh", "relu", "leakyrelu", "softmax"}

func (k ActKind) String() string {
	if k < 0 || int(k) >= len(actNames) {
		return fmt.Sprintf("ActKind(%d)", int(k))
	}
	return actNames[k]
}

// Activation is an activation function with its parameter: Slope is the
// negative-side slope of LeakyReLU and is ignored otherwise.
type Activation struct {
	Kind  ActKind
	Slope float64
}

// DefaultLeakySlope is the LeakyReLU slope when the spec gives none
// (PyTorch's default).
const DefaultLeakySlope = 0.01

// String writes the activation as it is spelled in a spec.
func (a Activation) String() string {
	if a.Kind == LeakyReLU && a.Slope != DefaultLeakySlope {
		return "leakyrelu(" + strconv.FormatFloat(a.Slope, 'g', -1, 64) + ")"
	}
	return a.Kind.String()
}

// ParseActivation reads an activation name: identity (or linear, none),
// sigmoid, tanh, relu, leakyrelu, leakyrelu(SLOPE), softmax.
func ParseActivation(s string) (Activation, error) {
	name, arg, hasArg := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "(")
	switch name {
	case "identity", "linear", "none":
		name = "identity"
	case "leaky_relu", "lrelu":
		name = "leakyrelu"
	}
	for k, n := range actNames {
		if n != name {
			continue
		}
		a := Activation{Kind: ActKind(k)}
		if a.Kind == LeakyReLU {
			a.Slope = DefaultLeakySlope
		}
		if !hasArg {
			return a, nil
		}
		if a.Kind != LeakyReLU {
			return Activation{}, fmt.Errorf("activation %q takes no parameter", name)
		}
		num, ok := strings.CutSuffix(arg, ")")
		if !ok {
			return Activation{}, fmt.Errorf("activation %q: missing ')'", s)
		}
		slope, err := strconv.ParseFloat(num, 64)
		if err != nil || !(slope >= 0 && slope < 1) {
			return Activation{}, fmt.Errorf("activation %q: slope must be a number in [0, 1)", s)
		}
		a.Slope = slope
		return a, nil
	}
	return Activation{}, fmt.Errorf("unknown activation %q (want identity, sigmoid, tanh, relu, leakyrelu, leakyrelu(SLOPE) or softmax)", s)
}

// LayerSpec describes one dense layer: its output width, the activation
// applied to its output, and the dropout probability applied after the
// activation during training (0 for none).
type LayerSpec struct {
	Units   int
	Act     Activation
	Dropout float64
}

// Spec is a feed-forward architecture: an input width and dense layers.
type Spec struct {
	Inputs int
	Layers []LayerSpec
}

// MaxWidth bounds every layer width a spec may name, so that a typo cannot
// ask for terabytes.
const MaxWidth = 1 << 24

// ParseSpec reads an architecture written as
//
//	IN-UNITS[:ACT][:dropout=P]-UNITS[:ACT][:dropout=P]...
//
// for example "784-256:relu-128:relu-10:softmax". A layer with no
// activation is linear (identity). Every malformed spec is an error that
// says which part is wrong.
func ParseSpec(s string) (Spec, error) {
	fail := func(i int, part, format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("model spec %q: part %d %q: %s", s, i+1, part, fmt.Sprintf(format, args...))
	}
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) < 2 {
		return Spec{}, fmt.Errorf("model spec %q: want INPUTS-UNITS[:ACT]-..., e.g. 784-256:relu-10:softmax", s)
	}
	var sp Spec
	for i, part := range parts {
		fields := strings.Split(part, ":")
		n, err := strconv.Atoi(strings.TrimSpace(fields[0]))
		if err != nil || n <= 0 || n > MaxWidth {
			return fail(i, part, "width must be an integer in [1, %d]", MaxWidth)
		}
		if i == 0 {
			if len(fields) > 1 {
				return fail(i, part, "the input width takes no activation")
			}
			sp.Inputs = n
			continue
		}
		l := LayerSpec{Units: n}
		seenAct := false
		for _, f := range fields[1:] {
			if p, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(f)), "dropout="); ok {
				d, err := strconv.ParseFloat(p, 64)
				if err != nil || !(d >= 0 && d < 1) {
					return fail(i, part, "dropout must be a number in [0, 1)")
				}
				l.Dropout = d
				continue
			}
			if seenAct {
				return fail(i, part, "more than one activation")
			}
			a, err := ParseActivation(f)
			if err != nil {
				return fail(i, part, "%v", err)
			}
			l.Act, seenAct = a, true
		}
		sp.Layers = append(sp.Layers, l)
	}
	if err := sp.Validate(); err != nil {
		return Spec{}, fmt.Errorf("model spec %q: %w", s, err)
	}
	return sp, nil
}

// MustParseSpec is ParseSpec for specs written in code; it panics on error.
func MustParseSpec(s string) Spec {
	sp, err := ParseSpec(s)
	if err != nil {
		panic(err)
	}
	return sp
}

// Validate reports whether the spec describes a network this package can
// build.
func (s Spec) Validate() error {
	if s.Inputs <= 0 || s.Inputs > MaxWidth {
		return fmt.Errorf("input width %d out of range [1, %d]", s.Inputs, MaxWidth)
	}
	if len(s.Layers) == 0 {
		return fmt.Errorf("no layers")
	}
	for i, l := range s.Layers {
		if l.Units <= 0 || l.Units > MaxWidth {
			return fmt.Errorf("layer %d: width %d out of range [1, %d]", i, l.Units, MaxWidth)
		}
		if l.Act.Kind < Identity || l.Act.Kind > Softmax {
			return fmt.Errorf("layer %d: unknown activation %d", i, l.Act.Kind)
		}
		if !(l.Dropout >= 0 && l.Dropout < 1) {
			return fmt.Errorf("layer %d: dropout %g outside [0, 1)", i, l.Dropout)
		}
		if l.Act.Kind == LeakyReLU && !(l.Act.Slope >= 0 && l.Act.Slope < 1) {
			return fmt.Errorf("layer %d: leaky slope %g outside [0, 1)", i, l.Act.Slope)
		}
		if i == len(s.Layers)-1 && l.Dropout > 0 {
			return fmt.Errorf("layer %d: dropout on the output layer", i)
		}
	}
	if n := s.NumParams(); n > 1<<34 {
		return fmt.Errorf("%d parameters is more than this tool will allocate", n)
	}
	return nil
}

// String writes the spec in the syntax ParseSpec reads.
func (s Spec) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(s.Inputs))
	for _, l := range s.Layers {
		b.WriteByte('-')
		b.WriteString(strconv.Itoa(l.Units))
		if l.Act.Kind != Identity {
			b.WriteByte(':')
			b.WriteString(l.Act.String())
		}
		if l.Dropout > 0 {
			b.WriteString(":dropout=")
			b.WriteString(strconv.FormatFloat(l.Dropout, 'g', -1, 64))
		}
	}
	return b.String()
}

// Outputs is the width of the last layer.
func (s Spec) Outputs() int { return s.Layers[len(s.Layers)-1].Units }

// NumParams is the number of weights and biases.
func (s Spec) NumParams() int {
	n, in := 0, s.Inputs
	for _, l := range s.Layers {
		n += l.Units*in + l.Units
		in = l.Units
	}
	return n
}
