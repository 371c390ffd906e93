package model

import "github.com/ptrain/ptrain/model/num"

// sum is the layer that ends a residual block: z = Σ of its inputs, the
// outputs of the body's last layer and of the shortcut's (or the block's
// input for the identity shortcut), all of the block's shape. Backward
// adds dz into the gradient of each input: a sum passes its gradient on
// unchanged to every term. The Workspace calls join and split, which take
// all the inputs at once; the block's activation and dropout are the
// Workspace's post-steps, as for any layer.
type sum[T num.Float] struct{ info *LayerInfo }

// joiner is a layer with several inputs.
type joiner[T num.Float] interface {
	layer[T]
	// join writes z from the inputs xs, in the order of Info().Inputs.
	join(p *pass[T], xs [][]T, z []T)
	// split adds the input gradients into dxs (nil where not needed).
	split(p *pass[T], dz []T, dxs [][]T)
}

func (l *sum[T]) Info() *LayerInfo { return l.info }
func (l *sum[T]) Scratch(int) int  { return 0 }

// Forward and Backward are those of a sum of one term: the Workspace
// runs a block's sum through join and split.
func (l *sum[T]) Forward(p *pass[T], x, z []T) { copy(z, x) }
func (l *sum[T]) Backward(p *pass[T], _, dz, dx []T) {
	if dx != nil {
		addTo(dx, dz)
	}
}

func (l *sum[T]) join(p *pass[T], xs [][]T, z []T) {
	copy(z, xs[0])
	for _, x := range xs[1:] {
		addTo(z, x)
	}
}

// forwardReLU is join with the block's ReLU in the same pass (see
// reluFused): for two terms, a = max(x0 + x1, 0) in one pass instead of a
// copy, an addition and the ReLU's pass.
func (l *sum[T]) forwardReLU(p *pass[T], xs [][]T, a []T) {
	if p.Norms != nil { // batch norms normalised in this pass (normsum.go)
		c := l.info.Out[0]
		addNormsReLU(p, xs, a, c, l.info.Out.Size()/c)
		return
	}
	if len(xs) != 2 {
		l.join(p, xs, a)
		reluForward(a, a)
		return
	}
	addReLU(a, xs[0], xs[1])
}

// addReLU writes a = max(x + y, 0): the copy of x, y added into it and the
// ReLU, with the same bits; 8 lanes at a time in assembly for float32 where
// AVX2 is there.
func addReLU[T num.Float](a, x, y []T) {
	a, y = a[:len(x)], y[:len(x)]
	i := 0
	if n := len(x) &^ 7; num.Is32[T]() && haveAVX2 && n > 0 {
		addReLU32AVX(&num.As32(a)[0], &num.As32(x)[0], &num.As32(y)[0], n)
		i = n
	}
	for ; i < len(x); i++ {
		a[i] = reluBits(x[i] + y[i])
	}
}

func (l *sum[T]) split(p *pass[T], dz []T, dxs [][]T) {
	for i, dx := range dxs {
		if dx == nil {
			continue
		}
		if !p.freshDx(i) {
			addTo(dx, dz)
			continue
		}
		// dx = +0 + dz, in chunks cleared while in cache (pass.FreshDx);
		// a copy would keep −0, which the sum into a cleared dx makes +0.
		for lo := 0; lo < len(dz); lo += splitChunk {
			hi := min(lo+splitChunk, len(dz))
			clear(dx[lo:hi])
			addTo(dx[lo:hi], dz[lo:hi])
		}
	}
}

// splitChunk is how many values of an input gradient split clears and
// then adds into at a time: 16 KB of float32, well within L1.
const splitChunk = 4096

// clearsOwnDx: split clears each chunk of an input gradient right before
// adding into it (pass.FreshDx).
func (l *sum[T]) clearsOwnDx() {}
