package model

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/model/num"
)

// Role is what one tensor of a layer is for. Initialisation, the L1 term,
// SetWeights' checks and the trainer read a tensor's role, never its
// layer's kind, so a new kind only lists its tensors with their roles.
type Role int

// The roles. The first four are trainable (in Params), the others are
// buffers (in Buffers): saved and broadcast, never optimized.
const (
	RoleWeight      Role = iota // drawn by Initialize; the L1 term's
	RoleBias                    // zero (drawn too under TorchDefault)
	RoleScale                   // one (batch norm's γ)
	RoleShift                   // zero (batch norm's β)
	RoleRunningMean             // zero
	RoleRunningVar              // one; never negative
	RoleCounter                 // zero; an integer, I64 in a checkpoint
)

// Trainable reports whether tensors of the role live in Params.
func (r Role) Trainable() bool { return r <= RoleShift }

// kind is everything one layer kind is, in one place: how the spec names
// and parses it, how its output shape follows from its input and which
// tensors it has, how it is built on a model's buffers, and its PyTorch
// twin. kinds lists them by LayerKind.
type kind struct {
	name  string   // in specs and tensor names (dense.0.weight)
	alias []string // other spellings ParseSpec accepts
	torch string   // the PyTorch module ptrain's layer matches
	usage string   // the spec syntax, for errors and help
	// parse reads the part of a layer before its activation, after the
	// kind's name: args is what is inside the parentheses (hasArgs: there
	// were any). dense, spelled as a bare number, is parsed apart.
	parse func(args string, hasArgs bool) (LayerSpec, error)
	// shape works out the output shape for input in, the tensors (names
	// without the layer's prefix, with shapes and roles) and the weight's
	// fan in and out (0 without a weight), or says what does not fit.
	shape func(l LayerSpec, in Shape) (out Shape, ts []TensorInfo, fanIn, fanOut int, err error)
	// format writes the layer's part of a spec, before its activation.
	format func(l LayerSpec) string
	// build32 and build64 bind the layer to a model's buffers.
	build32 func(m *Model[float32], info *LayerInfo) layer[float32]
	build64 func(m *Model[float64], info *LayerInfo) layer[float64]
}

// kinds is the kind table, indexed by LayerKind.
var kinds = [...]kind{
	KindDense: {
		name: "dense", torch: "nn.Linear", usage: "UNITS",
		shape: func(l LayerSpec, in Shape) (Shape, []TensorInfo, int, int, error) {
			if len(in) != 1 {
				return nil, nil, 0, 0, fmt.Errorf("a dense layer needs a flat input, this one gets %v: put flatten before it", in)
			}
			if l.Units <= 0 || l.Units > MaxWidth {
				return nil, nil, 0, 0, fmt.Errorf("width %d out of range [1, %d]", l.Units, MaxWidth)
			}
			return Shape{l.Units}, []TensorInfo{
				{Name: "weight", Shape: []int{l.Units, in[0]}, Role: RoleWeight},
				{Name: "bias", Shape: []int{l.Units}, Role: RoleBias}}, in[0], l.Units, nil
		},
		format:  func(l LayerSpec) string { return strconv.Itoa(l.Units) },
		build32: func(m *Model[float32], info *LayerInfo) layer[float32] { d := newDense(m.Params, info); return &d },
		build64: func(m *Model[float64], info *LayerInfo) layer[float64] { d := newDense(m.Params, info); return &d },
	},
	KindConv: {
		name: "conv", torch: "nn.Conv2d", usage: "conv(OUT,K[,stride=S][,pad=P])",
		parse: func(args string, hasArgs bool) (LayerSpec, error) {
			return parseWindow(KindConv, "conv(OUT,K[,stride=S][,pad=P])", args, hasArgs)
		},
		shape: windowShape(KindConv),
		format: func(l LayerSpec) string {
			s := fmt.Sprintf("conv(%d,%d", l.Units, l.Kernel)
			if l.Stride > 1 {
				s += fmt.Sprintf(",stride=%d", l.Stride)
			}
			if l.Pad > 0 {
				s += fmt.Sprintf(",pad=%d", l.Pad)
			}
			return s + ")"
		},
		build32: func(m *Model[float32], info *LayerInfo) layer[float32] { return newConv(m, info) },
		build64: func(m *Model[float64], info *LayerInfo) layer[float64] { return newConv(m, info) },
	},
	KindMaxPool: poolKind(KindMaxPool, "maxpool", "nn.MaxPool2d"),
	KindAvgPool: poolKind(KindAvgPool, "avgpool", "nn.AvgPool2d"),
	KindBatchNorm: {
		name: "bn", alias: []string{"batchnorm"}, torch: "nn.BatchNorm2d (nn.BatchNorm1d on a flat input)", usage: "bn",
		parse: noArgs(KindBatchNorm, "bn"),
		shape: func(l LayerSpec, in Shape) (Shape, []TensorInfo, int, int, error) {
			c := []int{in[0]}
			return in, []TensorInfo{
				{Name: "weight", Shape: c, Role: RoleScale},
				{Name: "bias", Shape: c, Role: RoleShift},
				{Name: "running_mean", Shape: c, Role: RoleRunningMean},
				{Name: "running_var", Shape: c, Role: RoleRunningVar},
				{Name: "num_batches_tracked", Shape: []int{}, Role: RoleCounter}}, 0, 0, nil
		},
		format:  func(LayerSpec) string { return "bn" },
		build32: func(m *Model[float32], info *LayerInfo) layer[float32] { return newBatchNorm(m, info) },
		build64: func(m *Model[float64], info *LayerInfo) layer[float64] { return newBatchNorm(m, info) },
	},
	KindFlatten: {
		name: "flatten", torch: "nn.Flatten", usage: "flatten",
		parse: noArgs(KindFlatten, "flatten"),
		shape: func(l LayerSpec, in Shape) (Shape, []TensorInfo, int, int, error) {
			return Shape{in.Size()}, nil, 0, 0, nil
		},
		format:  func(LayerSpec) string { return "flatten" },
		build32: func(_ *Model[float32], info *LayerInfo) layer[float32] { return flatten[float32]{info: info} },
		build64: func(_ *Model[float64], info *LayerInfo) layer[float64] { return flatten[float64]{info: info} },
	},
	KindGAP: {
		name: "gap", torch: "nn.AdaptiveAvgPool2d(1) + nn.Flatten", usage: "gap",
		parse: noArgs(KindGAP, "gap"),
		shape: func(l LayerSpec, in Shape) (Shape, []TensorInfo, int, int, error) {
			if len(in) != 3 {
				return nil, nil, 0, 0, fmt.Errorf("gap needs a C×H×W input, this one gets %v values", in)
			}
			return Shape{in[0]}, nil, 0, 0, nil
		},
		format:  func(LayerSpec) string { return "gap" },
		build32: func(_ *Model[float32], info *LayerInfo) layer[float32] { return gap[float32]{info: info} },
		build64: func(_ *Model[float64], info *LayerInfo) layer[float64] { return gap[float64]{info: info} },
	},
	// A residual block is parsed, laid out and written by ParseSpec, Layout
	// and LayerSpec.String themselves, which recurse into its stacks; its
	// layer is the sum at the end of the block (res.go).
	KindRes: {
		name: "res", torch: "Res (examples/torch_twin.py)", usage: "res(BODY[|SHORTCUT])",
		build32: func(_ *Model[float32], info *LayerInfo) layer[float32] { return &sum[float32]{info: info} },
		build64: func(_ *Model[float64], info *LayerInfo) layer[float64] { return &sum[float64]{info: info} },
	},
}

// Torch is the PyTorch module that the kind's layers match.
func (k LayerKind) Torch() string {
	if !k.valid() {
		return ""
	}
	return kinds[k].torch
}

func (k LayerKind) valid() bool { return k >= 0 && int(k) < len(kinds) }

// buildLayer binds the layer described by info to the model's buffers.
func buildLayer[T num.Float](m *Model[T], info *LayerInfo) layer[T] {
	k := &kinds[info.Spec.Kind]
	if num.Is32[T]() {
		return any(k.build32(any(m).(*Model[float32]), info)).(layer[T])
	}
	return any(k.build64(any(m).(*Model[float64]), info)).(layer[T])
}

// kindNamed returns the kind a spec spells name (or an alias of it).
func kindNamed(name string) (LayerKind, bool) {
	for k := range kinds {
		if kinds[k].name == name {
			return LayerKind(k), true
		}
		for _, a := range kinds[k].alias {
			if a == name {
				return LayerKind(k), true
			}
		}
	}
	return 0, false
}

// kindUsages lists the spellings of every kind, short (without the
// optional arguments), for errors.
func kindUsages() string {
	var u []string
	for _, k := range kinds {
		switch short, _, opt := strings.Cut(k.usage, "["); {
		case k.name == "dense":
			u = append(u, "a width")
		case opt:
			u = append(u, short+")")
		default:
			u = append(u, short)
		}
	}
	return strings.Join(u[:len(u)-1], ", ") + " or " + u[len(u)-1]
}

func noArgs(k LayerKind, name string) func(string, bool) (LayerSpec, error) {
	return func(_ string, hasArgs bool) (LayerSpec, error) {
		if hasArgs {
			return LayerSpec{}, fmt.Errorf("%s takes no arguments", name)
		}
		return LayerSpec{Kind: k}, nil
	}
}

func poolKind(k LayerKind, name, torch string) kind {
	usage := name + "(K[,stride=S])"
	return kind{
		name: name, torch: torch, usage: usage,
		parse: func(args string, hasArgs bool) (LayerSpec, error) { return parseWindow(k, usage, args, hasArgs) },
		shape: windowShape(k),
		format: func(l LayerSpec) string {
			s := fmt.Sprintf("%s(%d", name, l.Kernel)
			if l.Stride > 0 && l.Stride != l.Kernel {
				s += fmt.Sprintf(",stride=%d", l.Stride)
			}
			return s + ")"
		},
		build32: func(_ *Model[float32], info *LayerInfo) layer[float32] { return &pool[float32]{info: info} },
		build64: func(_ *Model[float64], info *LayerInfo) layer[float64] { return &pool[float64]{info: info} },
	}
}

// windowShape is the shape rule of the kinds that slide a window over a
// C×H×W input: conv and the pools.
func windowShape(k LayerKind) func(l LayerSpec, in Shape) (Shape, []TensorInfo, int, int, error) {
	return func(l LayerSpec, in Shape) (Shape, []TensorInfo, int, int, error) {
		fail := func(format string, args ...any) (Shape, []TensorInfo, int, int, error) {
			return nil, nil, 0, 0, fmt.Errorf(format, args...)
		}
		if len(in) != 3 {
			return fail("%s needs a C×H×W input, this one gets %v values: give the input as a shape, e.g. 1x28x28", k, in)
		}
		kk, stride, pad := l.Kernel, l.stride(), l.Pad
		if kk <= 0 || kk > MaxWidth || stride <= 0 || stride > MaxWidth || pad < 0 || pad > MaxWidth {
			return fail("kernel %d, stride %d, padding %d: sizes must be positive (padding ≥ 0) and at most %d", kk, stride, pad, MaxWidth)
		}
		if pad != 0 && k != KindConv {
			return fail("%s takes no padding", k)
		}
		h, w := (in[1]+2*pad-kk)/stride+1, (in[2]+2*pad-kk)/stride+1
		if in[1]+2*pad < kk || in[2]+2*pad < kk {
			return fail("a %dx%d window does not fit the %v input", kk, kk, in)
		}
		if k != KindConv {
			return Shape{in[0], h, w}, nil, 0, 0, nil
		}
		if l.Units <= 0 || l.Units > MaxWidth {
			return fail("%d output channels out of range [1, %d]", l.Units, MaxWidth)
		}
		if u := shapeSize([]int{in[0], kk, kk, h, w}); u > maxUnrolled {
			return fail("unrolling a %dx%d window over the %v input takes %d values per sample, more than %d", kk, kk, in, u, maxUnrolled)
		}
		return Shape{l.Units, h, w}, []TensorInfo{
			{Name: "weight", Shape: []int{l.Units, in[0], kk, kk}, Role: RoleWeight},
			{Name: "bias", Shape: []int{l.Units}, Role: RoleBias}}, in[0] * kk * kk, l.Units * kk * kk, nil
	}
}

// parseWindow reads the arguments of conv(OUT,K[,stride=S][,pad=P]) and
// the pools' (K[,stride=S]).
func parseWindow(k LayerKind, usage, args string, hasArgs bool) (LayerSpec, error) {
	args, ok := strings.CutSuffix(args, ")")
	if !hasArgs || !ok {
		return LayerSpec{}, fmt.Errorf("want %s", usage)
	}
	l := LayerSpec{Kind: k}
	var pos []int
	seen := map[string]bool{}
	for _, a := range strings.Split(args, ",") {
		a = strings.TrimSpace(a)
		key, val, named := strings.Cut(a, "=")
		if !named {
			val = key
		}
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n < 0 || n > MaxWidth {
			return LayerSpec{}, fmt.Errorf("%q is not a size: want %s", a, usage)
		}
		if named && seen[key] {
			return LayerSpec{}, fmt.Errorf("%q given twice: want %s", key, usage)
		}
		seen[key] = true
		switch {
		case !named:
			pos = append(pos, n)
		case key == "stride" && n > 0:
			l.Stride = n
		case key == "pad" && l.Kind == KindConv:
			l.Pad = n
		default:
			return LayerSpec{}, fmt.Errorf("%q: want %s", a, usage)
		}
	}
	switch {
	case l.Kind == KindConv && len(pos) == 2 && pos[0] > 0 && pos[1] > 0:
		l.Units, l.Kernel = pos[0], pos[1]
	case l.Kind != KindConv && len(pos) == 1 && pos[0] > 0:
		l.Kernel = pos[0]
	default:
		return LayerSpec{}, fmt.Errorf("want %s with positive sizes", usage)
	}
	return l, nil
}
