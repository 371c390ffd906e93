package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Shape is the shape of one sample: (F) for a flat vector of F values,
// (C, H, W) for an image of C channels (NCHW layout, PyTorch's).
type Shape []int

// Size is the number of values.
func (s Shape) Size() int { return shapeSize(s) }

// String writes 784 or 32x14x14.
func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, "x")
}

func shapeSize(s []int) int {
	n := 1
	for _, v := range s {
		if v < 0 || v > 0 && n > sizeLimit/v {
			return sizeLimit + 1 // saturates: every bound downstream refuses it
		}
		n *= v
	}
	return n
}

// sizeLimit is where shapeSize stops multiplying: far above anything this
// tool allocates (every caller bounds sizes well below), far below where
// an int would wrap.
const sizeLimit = 1 << 50

// maxUnrolled bounds the values conv unrolls per sample (C·K·K × Ho·Wo): a
// gigabyte of float32, far above real networks (a 512-channel 3×3 conv on
// 56×56 unrolls 14.5M), far below a typo's terabytes.
const maxUnrolled = 1 << 28

// TensorInfo places one named tensor of a layer in the model's flat
// buffers: trainable tensors (weights, biases) in Params, the others
// (batch norm's running statistics) in Buffers.
type TensorInfo struct {
	Name      string // e.g. conv.0.weight
	Shape     []int  // e.g. (out, in, kh, kw)
	Offset    int    // first element in Params or Buffers
	Trainable bool
	Int       bool // stored as I64 in a checkpoint (num_batches_tracked)
}

// Size is the number of elements.
func (t TensorInfo) Size() int { return shapeSize(t.Shape) }

// LayerInfo is where a layer sits in a model: its shapes per sample and
// its tensors.
type LayerInfo struct {
	Spec    LayerSpec
	Index   int    // position in the stack
	Name    string // <kind>.<i>, i counted per kind from 0: dense.0, conv.1, bn.0
	In, Out Shape
	Params  []TensorInfo // trainable, contiguous in Params
	Buffers []TensorInfo // not trainable, contiguous in Buffers
	// FanIn and FanOut of the weight, for initialisation (PyTorch's
	// _calculate_fan_in_and_fan_out); 0 for layers without weights.
	FanIn, FanOut int
}

// ParamRange is the layer's [lo, hi) in Params.
func (l *LayerInfo) ParamRange() (lo, hi int) {
	if len(l.Params) == 0 {
		return 0, 0
	}
	last := l.Params[len(l.Params)-1]
	return l.Params[0].Offset, last.Offset + last.Size()
}

// Layout is the one place where a spec's shapes and the layout of its
// parameters are worked out; the model, save/load and the trainer ask it.
type Layout struct {
	Layers     []LayerInfo
	NumParams  int // len(Model.Params)
	NumBuffers int // len(Model.Buffers)
}

// LayerError is a layer whose input does not fit it.
type LayerError struct {
	Layer int // index in Spec.Layers
	Msg   string
}

// Error names the layer and what does not fit.
func (e *LayerError) Error() string { return fmt.Sprintf("layer %d: %s", e.Layer, e.Msg) }

// Layout works out every layer's shapes and tensors. Parameters are laid
// out layer by layer, each layer's tensors in the order of its TensorInfo
// list (dense and conv: weight, then bias), which for a stack of dense
// layers is the layout of every earlier ptrain version.
func (s Spec) Layout() (Layout, error) {
	var lay Layout
	in := Shape{s.Inputs}
	if len(s.Shape) == 3 {
		in = Shape(s.Shape)
	}
	count := map[LayerKind]int{}
	for i, l := range s.Layers {
		fail := func(format string, args ...any) (Layout, error) {
			return Layout{}, &LayerError{Layer: i, Msg: fmt.Sprintf(format, args...)}
		}
		li := LayerInfo{Spec: l, Index: i, In: in}
		if l.Kind != KindMaxPool && l.Kind != KindAvgPool && l.Kind != KindFlatten {
			li.Name = l.Kind.String() + "." + strconv.Itoa(count[l.Kind])
			count[l.Kind]++
		}
		var params, buffers []TensorInfo
		switch l.Kind {
		case KindDense:
			if len(in) != 1 {
				return fail("a dense layer needs a flat input, this one gets %v: put flatten before it", in)
			}
			if l.Units <= 0 || l.Units > MaxWidth {
				return fail("width %d out of range [1, %d]", l.Units, MaxWidth)
			}
			li.Out = Shape{l.Units}
			li.FanIn, li.FanOut = in[0], l.Units
			params = []TensorInfo{{Name: "weight", Shape: []int{l.Units, in[0]}}, {Name: "bias", Shape: []int{l.Units}}}
		case KindConv, KindMaxPool, KindAvgPool:
			if len(in) != 3 {
				return fail("%s needs a C×H×W input, this one gets %v values: give the input as a shape, e.g. 1x28x28", l.Kind, in)
			}
			k, stride, pad := l.Kernel, l.stride(), l.Pad
			if k <= 0 || k > MaxWidth || stride <= 0 || stride > MaxWidth || pad < 0 || pad > MaxWidth {
				return fail("kernel %d, stride %d, padding %d: sizes must be positive (padding ≥ 0) and at most %d", k, stride, pad, MaxWidth)
			}
			if pad != 0 && l.Kind != KindConv {
				return fail("%s takes no padding", l.Kind)
			}
			h, w := (in[1]+2*pad-k)/stride+1, (in[2]+2*pad-k)/stride+1
			if in[1]+2*pad < k || in[2]+2*pad < k {
				return fail("a %dx%d window does not fit the %v input", k, k, in)
			}
			c := in[0]
			if l.Kind == KindConv {
				if l.Units <= 0 || l.Units > MaxWidth {
					return fail("%d output channels out of range [1, %d]", l.Units, MaxWidth)
				}
				c = l.Units
				if u := shapeSize([]int{in[0], k, k, h, w}); u > maxUnrolled {
					return fail("unrolling a %dx%d window over the %v input takes %d values per sample, more than %d", k, k, in, u, maxUnrolled)
				}
				li.FanIn, li.FanOut = in[0]*k*k, l.Units*k*k
				params = []TensorInfo{{Name: "weight", Shape: []int{l.Units, in[0], k, k}}, {Name: "bias", Shape: []int{l.Units}}}
			}
			li.Out = Shape{c, h, w}
		case KindBatchNorm:
			c := in[0]
			li.Out = in
			params = []TensorInfo{{Name: "weight", Shape: []int{c}}, {Name: "bias", Shape: []int{c}}}
			buffers = []TensorInfo{{Name: "running_mean", Shape: []int{c}}, {Name: "running_var", Shape: []int{c}},
				{Name: "num_batches_tracked", Shape: []int{}, Int: true}}
		case KindFlatten:
			li.Out = Shape{in.Size()}
		}
		if li.Out.Size() > MaxWidth {
			return fail("%v output values per sample is more than %d", li.Out, MaxWidth)
		}
		if l.Act.Kind == Softmax && len(li.Out) != 1 {
			return fail("softmax needs a flat output, this layer's is %v", li.Out)
		}
		for _, t := range params {
			t.Name, t.Offset, t.Trainable = li.Name+"."+t.Name, lay.NumParams, true
			lay.NumParams += t.Size()
			li.Params = append(li.Params, t)
		}
		for _, t := range buffers {
			t.Name, t.Offset = li.Name+"."+t.Name, lay.NumBuffers
			lay.NumBuffers += t.Size() // a scalar (num_batches_tracked) has size 1
			li.Buffers = append(li.Buffers, t)
		}
		lay.Layers = append(lay.Layers, li)
		in = li.Out
		if lay.NumParams > 1<<34 {
			return fail("%d parameters is more than this tool will allocate", lay.NumParams)
		}
	}
	return lay, nil
}
