package model

import "github.com/ptrain/ptrain/model/num"

// layer is one stage of a network, bound to its tensors inside a Model's
// Params and Buffers (see Layout). A layer holds no per-batch state: what
// Forward leaves for Backward lives in the pass's scratch, which belongs to
// one Workspace, so any number of workspaces may run one layer at once.
//
// Shapes: x is the layer's input for N rows, N×In.Size() values, z its
// output N×Out.Size(), each row one sample in the layer's layout (NCHW for
// images). Activations and dropout are applied by the Workspace after
// Forward (and undone before Backward), whatever the layer.
type layer[T num.Float] interface {
	// Info is where the layer sits: shapes, tensor names and offsets.
	Info() *LayerInfo
	// Scratch is how many elements of scratch Forward and Backward need
	// for n rows.
	Scratch(n int) int
	// Forward writes z from x.
	Forward(p *pass[T], x, z []T)
	// Backward takes dz = ∂L/∂z and adds ∂L/∂θ of the layer's parameters
	// into p.Grad, and adds ∂L/∂x into dx unless dx is nil (the first
	// layer): dx may already hold the gradient from another reader of x
	// (the Workspace clears it before the first, or has the layer clear
	// it: pass.FreshDx). x is the input of the last Forward, which must
	// have been a training pass when the layer behaves differently in
	// training.
	Backward(p *pass[T], x, dz, dx []T)
}

// pass is what a Workspace hands a layer for one forward or backward pass.
type pass[T num.Float] struct {
	N       int  // rows
	Train   bool // a training pass (batch statistics, dropout)
	Grad    []T  // ∂L/∂Params, the layout of Model.Params; Backward adds into it
	Scratch []T  // this layer's scratch: at least Scratch(N) elements, kept from Forward to Backward
	// Buffers receives what a training Forward updates of the model's
	// non-trainable buffers (running statistics), in the layout of
	// Model.Buffers.
	Buffers []T
	// Sync replaces v by its sum over the whole batch when this pass holds
	// only a part of it (one worker's shard, one rank's share), or leaves
	// it unchanged when nil. Every part calls it the same number of times,
	// also a part of zero rows. Batch norm sums its statistics with it.
	Sync func(v []float64)
	// Sums is float64 scratch for layers that synchronise, kept from
	// Forward to Backward like Scratch.
	Sums []float64
	// Fresh: the layer's part of Grad is undefined (Workspace.ResetGrad),
	// and a layer that overwrites its whole part in Backward does so
	// instead of adding into it. Only dense layers do; ResetGrad zeroes
	// the others' parts.
	Fresh bool
	// FreshDx, bit i: the gradient of input i (in the order of
	// Info().Inputs; dx for a layer of one input) holds no gradient yet
	// and was not cleared (its values are undefined). Only a layer that
	// implements clearsOwnDx gets it: it clears each part of that
	// gradient right before adding into it, while that part is in cache,
	// where the Workspace would otherwise stream a clear over the whole of
	// it first; the bits are the same.
	FreshDx uint64
	// OutSums, if not nil in a training Forward, receives each output
	// channel's Σ over the rows and positions, plane by plane in row order
	// (sumF64): a conv whose output only a batch norm reads adds up the
	// norm's first statistic while each plane is in cache (presumTargets).
	OutSums []float64
	// Presummed: in a training Forward of batch norm, the layer before it
	// has left Σx per channel in its Sums (OutSums).
	Presummed bool
	// Norms, in the Forward of a residual sum, gives per input nil or
	// the affine coefficients (a, b per channel) of a batch norm that the
	// sum normalises in its own pass: the input is then the norm's input
	// (normsum.go).
	Norms [][]float64
	// ReLUBackward, in the Backward of a layer that fuses its ReLU
	// (reluFused) and takes its backward too (reluBackFused): dz is ∂L/∂a
	// of the ReLU's output, not yet taken through the ReLU; the layer
	// zeroes it in place where its output was 0 before using it.
	ReLUBackward bool
	// NormBack, in the Backward of a conv whose output only a batch norm
	// reads: dz is the norm's output gradient, and the conv computes its
	// own, the norm's input gradient, plane by plane (convnorm.go).
	NormBack *normBack[T]
	// ActSums, if not nil in the Forward of a batch norm with its ReLU
	// fused (Workspace.keepsActSums), receives each output channel's Σ of
	// the activation over the rows and positions, sum4 of each plane added
	// in row order while the plane is in cache: what
	// Workspace.AddActivity reports, without a pass over the output.
	ActSums []T
	// pack is this (dense) layer's shared weight packing, or nil (see
	// SharedPack).
	pack *packSlot[T]
	// keepX and keepDZ, if not nil, defer this (dense) layer's weight
	// gradient: Backward copies its input X (N, In) and ∂L/∂z (N, Out)
	// there instead of adding dZᵀ·X into Grad (see
	// Workspace.DeferWeightGrad).
	keepX, keepDZ []T
}

// clearsOwnDx is implemented by layers whose Backward (or split) honours
// pass.FreshDx.
type clearsOwnDx interface{ clearsOwnDx() }

// freshDx reports whether the gradient of input i is undefined (FreshDx).
func (p *pass[T]) freshDx(i int) bool { return p.FreshDx>>i&1 != 0 }

// synced is implemented by layers whose training pass needs the whole
// batch (pass.Sync), so that every part of a batch must run them, even
// with no rows.
type synced interface {
	syncLen() int // float64 scratch for pass.Sums
}

// flatten reshapes C×H×W to C·H·W. The values are already in that order,
// so forward is a copy and backward an addition.
type flatten[T num.Float] struct{ info *LayerInfo }

func (f flatten[T]) Info() *LayerInfo             { return f.info }
func (f flatten[T]) Scratch(int) int              { return 0 }
func (f flatten[T]) Forward(_ *pass[T], x, z []T) { copy(z, x) }
func (f flatten[T]) Backward(_ *pass[T], _, dz, dx []T) {
	if dx != nil {
		addTo(dx, dz)
	}
}
