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

// String is the activation's name in a spec.
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

// LayerKind is the kind of a layer. KindDense is the zero value, so a
// LayerSpec written as {Units: 10} is a dense layer.
type LayerKind int

// The layer kinds.
const (
	KindDense     LayerKind = iota // fully connected: Units outputs
	KindConv                       // 2-D convolution: Units output channels, Kernel×Kernel, Stride, Pad
	KindMaxPool                    // 2-D max pooling: Kernel×Kernel windows, Stride
	KindAvgPool                    // 2-D average pooling: Kernel×Kernel windows, Stride
	KindBatchNorm                  // batch normalisation over channels (C×H×W input) or features (flat input)
	KindFlatten                    // C×H×W to C·H·W, in that order
	KindGAP                        // global average pooling: C×H×W to C, each channel's mean
	KindRes                        // residual block: y = Body(x) + Shortcut(x), Shortcut(x) = x when empty
)

// String is the kind's name in specs and in tensor names (dense.0.weight).
func (k LayerKind) String() string {
	if !k.valid() {
		return fmt.Sprintf("LayerKind(%d)", int(k))
	}
	return kinds[k].name
}

// LayerSpec describes one layer: its kind and size, the activation applied
// to its output, and the dropout probability applied after the activation
// during training (0 for none). A residual block (KindRes) holds two
// stacks of layers: its output is Body(x) + Shortcut(x), with the
// activation and dropout applied after the sum (ResNet v1); an empty
// Shortcut is the identity.
type LayerSpec struct {
	Kind     LayerKind
	Units    int // dense: outputs; conv: output channels
	Kernel   int // conv, pools: the window is Kernel×Kernel
	Stride   int // conv, pools: 0 means the default (conv 1, pools Kernel)
	Pad      int // conv: zero padding on every side
	Act      Activation
	Dropout  float64
	Body     []LayerSpec // res: the residual branch, at least one layer
	Shortcut []LayerSpec // res: the shortcut branch, empty for the identity
}

// Spec is a feed-forward architecture: an input and a stack of layers.
// Inputs is the number of input values per sample; Shape, when set, is the
// sample's shape (C, H, W) for convolutional networks, whose product is
// Inputs. A flat input has no Shape.
type Spec struct {
	Inputs int
	Shape  []int
	Layers []LayerSpec
}

// MaxWidth bounds every layer width a spec may name, so that a typo cannot
// ask for terabytes.
const MaxWidth = 1 << 24

// MustParseSpec is ParseSpec for specs written in code; it panics on error.
func MustParseSpec(s string) Spec {
	sp, err := ParseSpec(s)
	if err != nil {
		panic(err)
	}
	return sp
}

// Validate reports whether the spec describes a network this package can
// build: every size in range and every layer's input of the shape it needs.
func (s Spec) Validate() error {
	if s.Inputs <= 0 || s.Inputs > MaxWidth {
		return fmt.Errorf("input width %d out of range [1, %d]", s.Inputs, MaxWidth)
	}
	if len(s.Shape) != 0 && (len(s.Shape) != 3 || shapeSize(s.Shape) != s.Inputs) {
		return fmt.Errorf("input shape %v: want C×H×W with %d values", s.Shape, s.Inputs)
	}
	if len(s.Layers) == 0 {
		return fmt.Errorf("no layers")
	}
	if err := validateLayers(s.Layers, ""); err != nil {
		return err
	}
	if l := s.Layers[len(s.Layers)-1]; l.Dropout > 0 {
		return fmt.Errorf("layer %d: dropout on the output layer", len(s.Layers)-1)
	}
	layout, err := s.Layout()
	if err != nil {
		return err
	}
	if n := layout.NumParams + layout.NumBuffers; n > 1<<34 {
		return fmt.Errorf("%d parameters is more than this tool will allocate", n)
	}
	return nil
}

// validateLayers checks the kinds, activations and dropout of a stack of
// layers and of the blocks in it; where names a block's branch in errors.
func validateLayers(ls []LayerSpec, where string) error {
	for i, l := range ls {
		if !l.Kind.valid() {
			return fmt.Errorf("%slayer %d: unknown kind %d", where, i, l.Kind)
		}
		if l.Act.Kind < Identity || l.Act.Kind > Softmax {
			return fmt.Errorf("%slayer %d: unknown activation %d", where, i, l.Act.Kind)
		}
		if !(l.Dropout >= 0 && l.Dropout < 1) {
			return fmt.Errorf("%slayer %d: dropout %g outside [0, 1)", where, i, l.Dropout)
		}
		if l.Act.Kind == LeakyReLU && !(l.Act.Slope >= 0 && l.Act.Slope < 1) {
			return fmt.Errorf("%slayer %d: leaky slope %g outside [0, 1)", where, i, l.Act.Slope)
		}
		if l.Kind != KindRes {
			if len(l.Body)+len(l.Shortcut) > 0 {
				return fmt.Errorf("%slayer %d: a %s layer has no body or shortcut", where, i, l.Kind)
			}
			continue
		}
		if len(l.Body) == 0 {
			return fmt.Errorf("%slayer %d: a res block needs a body", where, i)
		}
		if err := validateLayers(l.Body, fmt.Sprintf("%slayer %d body: ", where, i)); err != nil {
			return err
		}
		if err := validateLayers(l.Shortcut, fmt.Sprintf("%slayer %d shortcut: ", where, i)); err != nil {
			return err
		}
	}
	return nil
}

// String writes the spec in the syntax ParseSpec reads.
func (s Spec) String() string {
	var b strings.Builder
	if len(s.Shape) == 3 {
		fmt.Fprintf(&b, "%dx%dx%d", s.Shape[0], s.Shape[1], s.Shape[2])
	} else {
		b.WriteString(strconv.Itoa(s.Inputs))
	}
	for _, l := range s.Layers {
		b.WriteByte('-')
		b.WriteString(l.String())
	}
	return b.String()
}

// String writes the layer as a part of a spec.
func (l LayerSpec) String() string {
	var b strings.Builder
	switch {
	case l.Kind == KindRes:
		b.WriteString("res(")
		writeStack(&b, l.Body)
		if len(l.Shortcut) > 0 {
			b.WriteByte('|')
			writeStack(&b, l.Shortcut)
		}
		b.WriteByte(')')
	case l.Kind.valid():
		b.WriteString(kinds[l.Kind].format(l))
	default:
		b.WriteString(l.Kind.String())
	}
	if l.Act.Kind != Identity {
		b.WriteByte(':')
		b.WriteString(l.Act.String())
	}
	if l.Dropout > 0 {
		b.WriteString(":dropout=")
		b.WriteString(strconv.FormatFloat(l.Dropout, 'g', -1, 64))
	}
	return b.String()
}

// writeStack writes layers joined by '-'.
func writeStack(b *strings.Builder, ls []LayerSpec) {
	for i, l := range ls {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(l.String())
	}
}

// Outputs is the number of output values per sample (0 for a spec whose
// shapes do not fit). It works the layout out: code that needs it every
// step keeps the figure (a Model has its Layout).
func (s Spec) Outputs() int {
	layout, err := s.Layout()
	if err != nil {
		return 0
	}
	return layout.Layers[len(layout.Layers)-1].Out.Size()
}

// stride is the layer's stride with the default filled in: 1 for conv,
// the kernel size for the pools.
func (l LayerSpec) stride() int {
	switch {
	case l.Stride != 0:
		return l.Stride
	case l.Kind == KindConv:
		return 1
	}
	return l.Kernel
}

// NumParams is the number of trainable parameters (weights and biases).
func (s Spec) NumParams() int {
	layout, err := s.Layout()
	if err != nil {
		return 0
	}
	return layout.NumParams
}
