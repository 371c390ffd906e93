package model

import (
	"slices"

	"github.com/ptrain/ptrain/model/num"
)

// fused is two layers — a convolution or a batch norm, and the max
// pooling right after it — that the Workspace runs as one stage
// (convpool.go, normpool.go). The first layer's output is never stored:
// the stage writes the pooling's output z and its argmax idx (the pooling
// layer's scratch) and reads them back in backward.
type fused[T num.Float] interface {
	// forward runs both layers on x (the first layer's input) with the
	// first layer's pass, and adds to act, one per channel, the sum over
	// the rows and positions of the first layer's activation (what
	// Workspace.AddActivity reports for it).
	forward(p *pass[T], x, z, idx, act []T)
	// backward takes dz = ∂L/∂z, adds the first layer's parameter
	// gradients into p.Grad and adds ∂L/∂x into dx unless dx is nil.
	backward(p *pass[T], x, z, dz, idx, dx []T)
}

// fuseStages is whether the Workspace fuses layers at all (a variable
// for tests that compare with the layers run one by one).
var fuseStages = true

// newFused returns the stage that layers l and l+1 of m's stack make, or
// nil. Only a layer whose output layer l+1 alone reads, and which is all
// that layer l+1 reads, can fuse with it: the stage never stores the
// first layer's output.
func newFused[T num.Float](m *Model[T], l int) fused[T] {
	if !fuseStages || l+1 >= len(m.stack) || !soleReader(m.Layout, l, l+1) {
		return nil
	}
	if f := newConvPool(m.stack, l); f != nil {
		return f
	}
	if f := newNormPool(m.stack, l); f != nil {
		return f
	}
	return nil
}

// soleReader reports whether layer r reads layer l's output and nothing
// else, and no other layer reads it.
func soleReader(lay Layout, l, r int) bool {
	if in := lay.Layers[r].Inputs; len(in) != 1 || in[0] != l {
		return false
	}
	for i := range lay.Layers {
		if i != r && slices.Contains(lay.Layers[i].Inputs, l) {
			return false
		}
	}
	return true
}
