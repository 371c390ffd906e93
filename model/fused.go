package model

import "github.com/ptrain/ptrain/model/num"

// fused is two layers — a convolution or a batch norm, and the max
// pooling right after it — that the Workspace runs as one stage
// (convpool.go, normpool.go). The first layer's output is never stored:
// the stage writes the pooling's output z and its argmax idx (the pooling
// layer's scratch) and reads them back in backward.
type fused[T num.Float] interface {
	// forward runs both layers on x (the first layer's input) with the
	// first layer's Pass, and adds to act, one per channel, the sum over
	// the rows and positions of the first layer's activation (what
	// Workspace.AddActivity reports for it).
	forward(p *Pass[T], x, z, idx, act []T)
	// backward takes dz = ∂L/∂z, adds the first layer's parameter
	// gradients into p.Grad and writes dx = ∂L/∂x unless dx is nil.
	backward(p *Pass[T], x, z, dz, idx, dx []T)
}

// fuseStages is whether the Workspace fuses layers at all (a variable
// for tests that compare with the layers run one by one).
var fuseStages = true

// newFused returns the stage that layers l and l+1 of stack make, or nil.
func newFused[T num.Float](stack []Layer[T], l int) fused[T] {
	if f := newConvPool(stack, l); f != nil {
		return f
	}
	if f := newNormPool(stack, l); f != nil {
		return f
	}
	return nil
}
