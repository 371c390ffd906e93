package model

import (
	"fmt"

	"github.com/ptrain/ptrain/model/num"
)

// Activation returns layer l's activation output a = f(z) for the rows of
// the last Forward ((n, Out.Size()), before dropout), a view valid until
// the next Forward. For an identity layer it is z. It is nil for a
// layer that the workspace runs fused with the max pooling after it (see
// fused), whose output is never stored: AddActivity still reports on it;
// and for a batch norm without an activation that the residual sum after
// it normalises in its own pass (normsum.go), which AddActivity does not
// report on either.
// Monitors read it to count saturated sigmoid/tanh units; it must not be
// written.
func (w *Workspace[T]) Activation(l int) []T {
	if w.stage[l] != nil || w.normed[l] {
		return nil
	}
	return w.a[l][:w.n*w.m.stack[l].Info().Out.Size()]
}

// AddActivity adds to sums, one per unit of layer l (a feature of a flat
// layer, a channel of an image layer: Out[0] of them), the sum over the
// rows of the last Forward and the unit's positions of the layer's
// activation. With a ReLU a unit's sum is zero exactly when the unit was
// off for every row. For a fused layer (see Activation), and for a batch
// norm with its ReLU fused, the sums are those its Forward kept in passing (per channel over the
// rows, then added into sums: the same values, added in another order).
func (w *Workspace[T]) AddActivity(l int, sums []T) {
	info := w.m.stack[l].Info()
	units := info.Out[0]
	sums = sums[:units]
	if w.unitSum[l] != nil { // kept by Forward (fused stages, pass.ActSums)
		num.Axpy(1, w.unitSum[l], sums)
		return
	}
	if w.normed[l] {
		panic(fmt.Sprintf("model: AddActivity of layer %d, a batch norm whose output its residual sum computes and does not keep", l))
	}
	a := w.Activation(l)
	pos := info.Out.Size() / units
	if pos == 1 {
		num.AddColSums(sums, num.View(w.n, units, a))
		return
	}
	for u0 := 0; u0 < len(a); u0 += units * pos {
		for u := range units {
			sums[u] += sum4(a[u0+u*pos : u0+(u+1)*pos])
		}
	}
}
