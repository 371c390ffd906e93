package model

import (
	"fmt"
	"slices"
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
// buffers: trainable tensors (weights, biases, batch norm's scale and
// shift) in Params, the others (batch norm's running statistics) in
// Buffers. Role says what it is for (see Role).
type TensorInfo struct {
	Name      string // e.g. conv.0.weight
	Shape     []int  // e.g. (out, in, kh, kw)
	Offset    int    // first element in Params or Buffers
	Role      Role
	Trainable bool // Role.Trainable()
	Int       bool // stored as I64 in a checkpoint (num_batches_tracked): Role == RoleCounter
}

// Size is the number of elements.
func (t TensorInfo) Size() int { return shapeSize(t.Shape) }

// LayerInfo is where a layer sits in a model: its shapes per sample, the
// layers it reads, and its tensors.
type LayerInfo struct {
	Spec  LayerSpec
	Index int    // position in the stack
	Name  string // <kind>.<i>, i counted per kind from 0: dense.0, conv.1, bn.0
	// Inputs are the layers whose outputs this one reads, by Index; -1 is
	// the network's input. Every input comes before the layer in the
	// stack, so the stack's order is a topological order of the graph.
	Inputs []int
	// Depth is how many residual blocks the layer is inside (0 at the
	// top); Shortcut, whether it is in the shortcut of the innermost. A
	// block's layers are its body's, then its shortcut's, then its sum
	// (a layer of KindRes, whose Spec is the block's), and First is the
	// index of the block's first layer in a sum's LayerInfo.
	Depth    int
	Shortcut bool
	First    int
	In, Out  Shape
	Params   []TensorInfo // trainable, contiguous in Params
	Buffers  []TensorInfo // not trainable, contiguous in Buffers
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

// Group is one layer's parameters, the unit the trainer reduces and
// reports on (its buckets and per-layer statistics): Params[Lo:Hi].
type Group struct {
	Layer  int    // index in Layout.Layers
	Name   string // the layer's name, dense.0
	Lo, Hi int
}

// Layout is the one place where a spec's shapes and the layout of its
// parameters are worked out; the model, save/load and the trainer ask it.
type Layout struct {
	Layers     []LayerInfo
	Groups     []Group // the layers that have parameters, in stack order
	NumParams  int     // len(Model.Params)
	NumBuffers int     // len(Model.Buffers)
}

// LayerError is a layer whose input does not fit it.
type LayerError struct {
	Layer int // index in Spec.Layers
	Msg   string
}

// Error names the layer and what does not fit.
func (e *LayerError) Error() string { return fmt.Sprintf("layer %d: %s", e.Layer, e.Msg) }

// Layout works out every layer's shapes and tensors from the kind table.
// Parameters are laid out layer by layer, each layer's tensors in the
// order its kind lists them (dense and conv: weight, then bias), which for
// a stack of dense layers is the layout of every earlier ptrain version.
// A residual block's layers come in spec order, its body's first, then
// its shortcut's, then its sum; names count each kind over them all.
func (s Spec) Layout() (Layout, error) {
	b := layoutBuilder{count: map[LayerKind]int{}}
	in := Shape{s.Inputs}
	if len(s.Shape) == 3 {
		in = Shape(s.Shape)
	}
	src := -1
	for i, l := range s.Layers {
		out, last, err := b.add(l, in, src, 0, false)
		if err != nil {
			return Layout{}, &LayerError{Layer: i, Msg: err.Error()}
		}
		in, src = out, last
	}
	return b.lay, nil
}

// layoutBuilder appends the layers of a spec to a Layout.
type layoutBuilder struct {
	lay   Layout
	count map[LayerKind]int
}

// stack lays out a block's branch reading layer src (of shape in) and
// returns its output shape and last layer.
func (b *layoutBuilder) stack(ls []LayerSpec, in Shape, src, depth int, shortcut bool, name string) (Shape, int, error) {
	for j, l := range ls {
		out, last, err := b.add(l, in, src, depth, shortcut)
		if err != nil {
			return nil, 0, fmt.Errorf("%s layer %d (%v): %w", name, j+1, l, err)
		}
		in, src = out, last
	}
	return in, src, nil
}

// add lays out layer l reading layer src (−1: the input) of shape in and
// returns its output shape and index.
func (b *layoutBuilder) add(l LayerSpec, in Shape, src, depth int, shortcut bool) (Shape, int, error) {
	lay := &b.lay
	if !l.Kind.valid() {
		return nil, 0, fmt.Errorf("unknown kind %d", l.Kind)
	}
	li := LayerInfo{Spec: l, In: in, Inputs: []int{src}, Depth: depth, Shortcut: shortcut}
	if l.Kind == KindRes {
		if len(l.Body) == 0 {
			return nil, 0, fmt.Errorf("a res block needs a body")
		}
		li.First = len(lay.Layers)
		out, last, err := b.stack(l.Body, in, src, depth+1, false, "body")
		if err != nil {
			return nil, 0, err
		}
		sc, scLast := in, src
		if len(l.Shortcut) > 0 {
			if sc, scLast, err = b.stack(l.Shortcut, in, src, depth+1, true, "shortcut"); err != nil {
				return nil, 0, err
			}
		}
		if !slices.Equal(out, sc) {
			if len(l.Shortcut) == 0 {
				return nil, 0, fmt.Errorf("the body maps %v to %v: a block without a shortcut adds its input to the body's output, so they must match; give a shortcut that maps %v to %v, e.g. res(BODY|%s)", in, out, in, out, shortcutHint(in, out))
			}
			return nil, 0, fmt.Errorf("the body's output is %v, the shortcut's %v: they must match", out, sc)
		}
		li.Out, li.Inputs = out, []int{last, scLast}
	} else {
		out, tensors, fanIn, fanOut, err := kinds[l.Kind].shape(l, in)
		if err != nil {
			return nil, 0, err
		}
		li.Out, li.FanIn, li.FanOut = out, fanIn, fanOut
		if len(tensors) > 0 {
			li.Name = l.Kind.String() + "." + strconv.Itoa(b.count[l.Kind])
			b.count[l.Kind]++
		}
		for _, t := range tensors {
			t.Name, t.Trainable, t.Int = li.Name+"."+t.Name, t.Role.Trainable(), t.Role == RoleCounter
			if t.Trainable {
				t.Offset = lay.NumParams
				lay.NumParams += t.Size()
				li.Params = append(li.Params, t)
			} else {
				t.Offset = lay.NumBuffers
				lay.NumBuffers += t.Size() // a scalar (num_batches_tracked) has size 1
				li.Buffers = append(li.Buffers, t)
			}
		}
	}
	if li.Out.Size() > MaxWidth {
		return nil, 0, fmt.Errorf("%v output values per sample is more than %d", li.Out, MaxWidth)
	}
	if l.Act.Kind == Softmax && len(li.Out) != 1 {
		return nil, 0, fmt.Errorf("softmax needs a flat output, this layer's is %v", li.Out)
	}
	li.Index = len(lay.Layers)
	if len(li.Params) > 0 {
		lo, hi := li.ParamRange()
		lay.Groups = append(lay.Groups, Group{Layer: li.Index, Name: li.Name, Lo: lo, Hi: hi})
	}
	lay.Layers = append(lay.Layers, li)
	if lay.NumParams > 1<<34 {
		return nil, 0, fmt.Errorf("%d parameters is more than this tool will allocate", lay.NumParams)
	}
	return li.Out, li.Index, nil
}

// shortcutHint is a projection shortcut from shape in to out: a 1×1
// convolution with the stride that maps the one to the other, and batch
// norm, for images; a dense layer otherwise.
func shortcutHint(in, out Shape) string {
	if len(in) == 3 && len(out) == 3 && out[1] > 0 {
		return fmt.Sprintf("conv(%d,1,stride=%d)-bn", out[0], max(1, in[1]/out[1]))
	}
	return strconv.Itoa(out.Size())
}
