package model

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/model/num"
)

// Model is a feed-forward network — a stack of layers — whose trainable
// tensors (weights, biases) all live in one flat buffer, Params, laid out
// layer by layer as Layout says; a gradient buffer or optimizer state of
// len(Params) uses the same layout. Non-trainable tensors (batch norm's
// running statistics) live in Buffers: saved and broadcast with the
// weights, never optimized or summed across workers. For a stack of dense
// layers, layer l occupies Params[Layout.Layers[l].Params[0].Offset:] as its weight matrix
// (Out, In), row-major — the layout of PyTorch's nn.Linear.weight —
// followed by its bias (Out).
//
// A Model holds no per-batch state: forward and backward passes run in a
// Workspace, and any number of workspaces may read one Model concurrently
// as long as nothing writes Params and Buffers meanwhile.
type Model[T num.Float] struct {
	Spec    Spec
	Layout  Layout
	Params  []T
	Buffers []T
	// stack is the network, one layer per layer of Layout.
	stack []layer[T]
}

// New builds a model initialised for training, as PyTorch's modules are
// at construction: the weights drawn by Initialize(seed, InitAuto) (He
// uniform under ReLU, Xavier uniform otherwise), biases zero, batch norm at
// scale 1 and shift 0. The seed alone determines the weights. For another
// scheme call Initialize afterwards; to fill every parameter yourself (a
// checkpoint, say) start from NewZero.
func New[T num.Float](spec Spec, seed uint64) (*Model[T], error) {
	m, err := NewZero[T](spec)
	if err != nil {
		return nil, err
	}
	if err := m.Initialize(seed, InitAuto); err != nil {
		return nil, err
	}
	return m, nil
}

// NewZero builds a model with all parameters zero (batch norm's scales
// one, its running variances one): a start for loading weights (FromFile
// and SetWeights overwrite them all) or for a scheme of your own. A
// network of zero weights does not learn — every unit of a layer gets the
// same gradient — so train from New, or call Initialize first.
func NewZero[T num.Float](spec Spec) (*Model[T], error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	lay, err := spec.Layout()
	if err != nil {
		return nil, err
	}
	m := &Model[T]{Spec: spec, Layout: lay, Params: num.Alloc[T](lay.NumParams), Buffers: num.Alloc[T](lay.NumBuffers)}
	m.bind()
	m.resetNorm()
	return m, nil
}

// bind points the layer views into Params and Buffers.
func (m *Model[T]) bind() {
	m.stack = m.stack[:0]
	for i := range m.Layout.Layers {
		m.stack = append(m.stack, buildLayer(m, &m.Layout.Layers[i]))
	}
}

// resetNorm gives every tensor but the weights and biases its initial
// value by role: scales and running variances one, shifts, running means
// and counters zero (PyTorch's BatchNorm at construction).
func (m *Model[T]) resetNorm() {
	for _, l := range m.Layout.Layers {
		for _, t := range slices.Concat(l.Params, l.Buffers) {
			buf := m.Params
			if !t.Trainable {
				buf = m.Buffers
			}
			v := T(0)
			switch t.Role {
			case RoleWeight, RoleBias:
				continue
			case RoleScale, RoleRunningVar:
				v = 1
			}
			dst := buf[t.Offset : t.Offset+t.Size()]
			for i := range dst {
				dst[i] = v
			}
		}
	}
}

// NeedsSync reports whether a training pass of the model needs
// Workspace.Sync: whether it has layers (batch norm) that normalise by
// statistics of the whole batch. A data-parallel trainer then sets Sync
// and runs every worker's pass, also a worker with no rows.
func (m *Model[T]) NeedsSync() bool {
	for _, l := range m.stack {
		if _, ok := l.(synced); ok {
			return true
		}
	}
	return false
}

// Clone returns a deep copy.
func (m *Model[T]) Clone() *Model[T] {
	c := &Model[T]{Spec: m.Spec, Layout: m.Layout, Params: num.Alloc[T](len(m.Params)), Buffers: num.Alloc[T](len(m.Buffers))}
	copy(c.Params, m.Params)
	copy(c.Buffers, m.Buffers)
	c.bind()
	return c
}

// Convert returns a copy of m with parameters of another element type.
func Convert[U, T num.Float](m *Model[T]) *Model[U] {
	c := &Model[U]{Spec: m.Spec, Layout: m.Layout, Params: num.Alloc[U](len(m.Params)), Buffers: num.Alloc[U](len(m.Buffers))}
	for i, v := range m.Params {
		c.Params[i] = U(v)
	}
	for i, v := range m.Buffers {
		c.Buffers[i] = U(v)
	}
	c.bind()
	return c
}

// ParamName describes parameter i as "dense.<l>.weight[r, c]",
// "conv.<l>.weight[o, i, y, x]" or "bn.<l>.bias[c]" (the safetensors
// names, with the element's index), for error messages.
func (m *Model[T]) ParamName(i int) string {
	for _, l := range m.Layout.Layers {
		for _, t := range l.Params {
			if i < t.Offset || i >= t.Offset+t.Size() {
				continue
			}
			k, idx := i-t.Offset, make([]string, len(t.Shape))
			for d := len(t.Shape) - 1; d >= 0; d-- {
				idx[d] = strconv.Itoa(k % t.Shape[d])
				k /= t.Shape[d]
			}
			return fmt.Sprintf("%s[%s]", t.Name, strings.Join(idx, ", "))
		}
	}
	return fmt.Sprintf("parameter %d (out of range)", i)
}
