package model

import (
	"fmt"

	"github.com/ptrain/ptrain/model/num"
)

// A dense layer's weight gradient dW = dZᵀ·X (Out, In) is a sum over the
// pass's rows. When several workspaces each run a few rows of one batch, a
// data-parallel trainer need not have every one of them write a whole dW
// over its rows and then sum the workspaces' dW: each workspace can keep
// its dZ and X (DeferWeightGrad, Workspace.Defer), and after the pass each
// worker computes a part of the batch's dW — a range of its elements —
// from every workspace's rows (WeightGradRange), so that no worker writes
// all of dW and the reduction has nothing to add there.

// DeferWeightGrad chooses the dense layers (indices into the stack) whose
// weight gradient Backward leaves out while Defer is set, and makes room
// to keep their output gradients. It allocates; call it once, not per
// pass. It panics if a layer is not dense.
func (w *Workspace[T]) DeferWeightGrad(layers []int) {
	w.kept = make([][]T, len(w.m.stack))
	for _, l := range layers {
		d, ok := w.m.stack[l].(*dense[T])
		if !ok {
			panic(fmt.Sprintf("model: DeferWeightGrad of layer %d, which is not dense", l))
		}
		w.kept[l] = num.Alloc[T](w.cap * d.Out)
	}
}

// WeightGradRange computes the elements [lo, hi) — indices into the
// layout of Params, inside dense layer l's weight — of the weight gradient
// of this workspace's last Backward, which must have deferred layer l:
// dst[i] = (dZᵀ·X)[i] + beta·dst[i] for i in [lo, hi). beta is 0 or 1;
// with beta = 0, dst is written without being read.
//
// On ptrain's own GEMM kernels (the default build on amd64) each element
// is the same sequential sum of fused multiply-adds over the rows, whatever
// the range, as in the whole product; and with beta = 1 the product is
// added as c = 1·c + Σ, one rounding. So while the pass had at most 256
// rows (one k block of the GEMM), computing a range of a first
// workspace's product with beta = 0 and then adding a second's with beta
// = 1 gives the bits of the two whole products added with num.Axpy. Other
// GEMMs (OpenBLAS, gonum) may round such a chain differently, within
// rounding of that sum.
//
// WeightGradRange only reads the workspace: several goroutines may call
// it at once, for disjoint ranges of dst, as long as no pass runs on the
// workspace meanwhile.
func (w *Workspace[T]) WeightGradRange(l, lo, hi int, beta T, dst []T) {
	d, ok := w.m.stack[l].(*dense[T])
	if !ok || !w.deferred || w.kept[l] == nil {
		panic(fmt.Sprintf("model: WeightGradRange of layer %d, whose weight gradient the last Backward did not defer", l))
	}
	r0, r1 := lo-d.Offset, hi-d.Offset
	if r0 < 0 || r1 > d.Out*d.In || r0 > r1 {
		panic(fmt.Sprintf("model: WeightGradRange [%d, %d) outside layer %d's weight [%d, %d)", lo, hi, l, d.Offset, d.Offset+d.Out*d.In))
	}
	n, x, dz := w.n, w.input(d.info.Inputs[0]), w.kept[l]
	// rows [i, i+m), columns [j, j+c) of dW: dZ[:, i:i+m]ᵀ · X[:, j:j+c]
	// ((n, Out) and (n, In), row-major), into dst at the same place.
	block := func(i, m, j, c int) {
		num.Gemm(true, false, m, c, n, 1, dz[i:], d.Out, x[j:], d.In, beta, dst[d.Offset+i*d.In+j:], d.In)
	}
	for r0 < r1 {
		i, j := r0/d.In, r0%d.In
		if j != 0 || r1-r0 < d.In { // a piece of row i
			c := min(d.In-j, r1-r0)
			block(i, 1, j, c)
			r0 += c
			continue
		}
		m := (r1 - r0) / d.In // whole rows
		block(i, m, 0, d.In)
		r0 += m * d.In
	}
}
