package model

import (
	"fmt"

	"github.com/ptrain/ptrain/model/num"
)

// A dense layer's weight gradient dW = dZᵀ·X (Out, In) is a sum over the
// pass's rows. When several workspaces each run a few rows of one batch, a
// data-parallel trainer need not have every one of them write a whole dW
// over its rows and then sum the workspaces' dW: each workspace can copy
// its X and dZ next to the other workspaces' rows (DeferWeightGrad), and
// after the pass each worker computes a part of the batch's dW — a range
// of its elements — from all the rows at once (WeightGrad), so that no
// worker writes all of dW, the product runs over the whole batch's rows,
// and the reduction has nothing to add there.

// DeferWeightGrad makes the following Backwards leave dense layer l's
// weight gradient out of Grad (on a fresh gradient, see ResetGrad, that
// part then stays undefined): they copy the layer's input X (n, In) to x
// and its output gradient ∂L/∂z (n, Out) to dz instead, for WeightGrad. A
// copy is skipped where x already holds the input (the network's input,
// passed to Forward as x itself). nil, nil undoes it. x and dz must hold
// the rows of every pass until then; a pass of more rows panics. The first
// call allocates a small table; later ones allocate nothing. It panics if
// layer l is not dense.
func (w *Workspace[T]) DeferWeightGrad(l int, x, dz []T) {
	if _, ok := w.m.stack[l].(*dense[T]); !ok {
		panic(fmt.Sprintf("model: DeferWeightGrad of layer %d, which is not dense", l))
	}
	if w.kept == nil {
		w.kept = make([][2][]T, len(w.m.stack))
	}
	w.kept[l] = [2][]T{x, dz}
}

// WeightGrad computes the elements [lo, hi) of a dense layer's weight
// gradient dW = dZᵀ·X over n rows — lo and hi index the layout of Params,
// inside the weight of the layer that info describes; x is (n, In) and dz
// (n, Out), row-major — into dst: dst[i] = dW[i] + beta·dst[i]. beta is 0
// or 1; with beta = 0, dst is written without being read.
//
// On ptrain's own GEMM kernels (num.OwnKernels) each element is the same
// sequential sum of fused multiply-adds over the rows whatever the range,
// so ranges that cover the weight give the bits of the layer's Backward
// over the same rows; and beta = 1 adds the product with one rounding,
// as num.Axpy would add it computed apart. Other GEMMs may round
// differently by range.
func WeightGrad[T num.Float](info *LayerInfo, x, dz []T, n, lo, hi int, beta T, dst []T) {
	if info.Spec.Kind != KindDense || len(info.Params) == 0 {
		panic(fmt.Sprintf("model: WeightGrad of %s, which is not a dense layer", info.Name))
	}
	in, out, off := info.In[0], info.Out[0], info.Params[0].Offset
	r0, r1 := lo-off, hi-off
	if r0 < 0 || r1 > out*in || r0 > r1 {
		panic(fmt.Sprintf("model: WeightGrad [%d, %d) outside %s's weight [%d, %d)", lo, hi, info.Name, off, off+out*in))
	}
	// rows [i, i+m), columns [j, j+c) of dW: dZ[:, i:i+m]ᵀ · X[:, j:j+c].
	block := func(i, m, j, c int) {
		num.Gemm(true, false, m, c, n, 1, dz[i:], out, x[j:], in, beta, dst[off+i*in+j:], in)
	}
	for r0 < r1 {
		i, j := r0/in, r0%in
		if j != 0 || r1-r0 < in { // a piece of row i
			c := min(in-j, r1-r0)
			block(i, 1, j, c)
			r0 += c
			continue
		}
		m := (r1 - r0) / in // whole rows
		block(i, m, 0, in)
		r0 += m * in
	}
}
