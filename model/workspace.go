package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/ptrain/ptrain/model/num"
)

// Workspace holds everything one forward/backward pass writes: the
// activations of every layer for up to Cap rows, the backward scratch, and
// the gradient buffer Grad (the layout of Model.Params). It reads the
// model's parameters and never writes them.
//
// A Workspace is owned by one goroutine at a time; the data-parallel
// trainer gives each worker its own. Forward, LossGrad and Backward
// allocate nothing.
type Workspace[T num.Float] struct {
	m    *Model[T]
	Grad []T // ∂L/∂Params, accumulated by Backward; zeroed by ZeroGrad
	cap  int

	n     int // rows of the last Forward
	train bool
	x     []T   // input of the last Forward (n, Inputs), borrowed from the caller
	z     [][]T // per layer: pre-activation (cap, Out)
	a     [][]T // per layer: activation (cap, Out); aliases z for identity
	out   [][]T // per layer: what the next layer reads — a, or a·mask under dropout
	mask  [][]T // per layer with dropout: 0 or 1/(1−p) for each element
	bufA  []T   // backward scratch, (cap, widest layer)
	bufB  []T
	dLast []T       // ∂L/∂z of the last layer, set by LossGrad; a view of bufA
	lse   []float64 // with a softmax output: each row's log Σ exp(z), from Forward

	seed, step uint64 // dropout stream, see SetDropoutStream
	rowBase    int

	// AfterLayer, if set, is called by Backward as soon as layer l's
	// gradient in Grad is complete (layers in reverse order), before the
	// gradient flows on to layer l−1. A data-parallel trainer uses it to
	// start reducing the last layers while the first are still in backward,
	// as PyTorch DDP's reducer does. Layer l's part of Grad is not written
	// again by this Backward.
	AfterLayer func(l int)
}

// NewWorkspace sizes a workspace for batches of up to maxBatch rows.
func NewWorkspace[T num.Float](m *Model[T], maxBatch int) *Workspace[T] {
	if maxBatch <= 0 {
		panic(fmt.Sprintf("model: NewWorkspace with batch %d", maxBatch))
	}
	w := &Workspace[T]{m: m, Grad: num.Alloc[T](len(m.Params)), cap: maxBatch}
	widest := m.Spec.Inputs
	for _, d := range m.Layers {
		z := num.Alloc[T](maxBatch * d.Out)
		a := z
		if d.Act.Kind != Identity {
			a = num.Alloc[T](maxBatch * d.Out)
		}
		out, mask := a, []T(nil)
		if d.Dropout > 0 {
			out = num.Alloc[T](maxBatch * d.Out)
			mask = num.Alloc[T](maxBatch * d.Out)
		}
		w.z, w.a, w.out, w.mask = append(w.z, z), append(w.a, a), append(w.out, out), append(w.mask, mask)
		widest = max(widest, d.Out)
	}
	if m.Layers[len(m.Layers)-1].Act.Kind == Softmax {
		w.lse = make([]float64, maxBatch)
	}
	w.bufA = num.Alloc[T](maxBatch * widest)
	w.bufB = num.Alloc[T](maxBatch * widest)
	return w
}

// Model returns the model the workspace reads.
func (w *Workspace[T]) Model() *Model[T] { return w.m }

// ZeroGrad sets Grad to zero. Backward accumulates, so call it before the
// first backward pass of a step.
func (w *Workspace[T]) ZeroGrad() { clear(w.Grad) }

// SetDropoutStream fixes the randomness of dropout: the mask of row r of the
// next training Forward is drawn from a stream determined by (seed, step,
// rowBase+r) alone. A data-parallel trainer passes the row's index in the
// global batch as rowBase+r, so the masks — and so the update — do not
// depend on how the batch was sharded.
func (w *Workspace[T]) SetDropoutStream(seed, step uint64, rowBase int) {
	w.seed, w.step, w.rowBase = seed, step, rowBase
}

// Forward runs the network on n rows of x ((n, Inputs), row-major) and
// returns the output activations (n, Outputs), a view valid until the next
// Forward. With train set, dropout is applied; otherwise the pass is the
// deterministic evaluation pass. x must stay unchanged until Backward.
func (w *Workspace[T]) Forward(x []T, n int, train bool) []T {
	if n < 0 || n > w.cap || len(x) < n*w.m.Spec.Inputs {
		panic(fmt.Sprintf("model: Forward of %d rows (%d values) in a workspace for %d rows of %d", n, len(x), w.cap, w.m.Spec.Inputs))
	}
	w.n, w.train, w.x, w.dLast = n, train, x[:n*w.m.Spec.Inputs], nil
	in := w.x
	for l := range w.m.Layers {
		d := &w.m.Layers[l]
		z := num.View(n, d.Out, w.z[l])
		// z = x·Wᵀ + b; x is (n, In), W is (Out, In).
		for i := 0; i < n; i++ {
			copy(z.Row(i), d.B)
		}
		num.MatMul(false, true, 1, num.View(n, d.In, in), d.W, 1, z)
		a := w.a[l][:n*d.Out]
		if d.Act.Kind != Identity {
			var lse []float64
			if l == len(w.m.Layers)-1 {
				lse = w.lse
			}
			activate(d.Act, z.Data, a, d.Out, lse)
		}
		in = a
		if d.Dropout > 0 && train {
			w.dropout(l, n, d)
			in = w.out[l][:n*d.Out]
		}
	}
	return in
}

// dropout draws the inverted-dropout mask of layer l (keep with probability
// 1−p, scaled by 1/(1−p) so that evaluation needs no rescaling) and applies
// it: out = a·mask.
func (w *Workspace[T]) dropout(l, n int, d *Dense[T]) {
	keep := 1 - d.Dropout
	scale := T(1 / keep)
	a, out, mask := w.a[l], w.out[l], w.mask[l]
	var src rand.PCG
	for r := 0; r < n; r++ {
		src.Seed(w.seed^(w.step*0x9e3779b97f4a7c15)^uint64(l)<<56, uint64(w.rowBase+r))
		for j := r * d.Out; j < (r+1)*d.Out; j++ {
			if float64(src.Uint64()>>11)*(1.0/(1<<53)) < keep {
				mask[j] = scale
			} else {
				mask[j] = 0
			}
			out[j] = a[j] * mask[j]
		}
	}
}

// LossGrad evaluates loss on the rows of the last Forward against the targets
// y ((n, Outputs)) and prepares Backward: it stores ∂L/∂z of the output
// layer for L = (Σ per-sample losses)/denom. It returns the sum of the
// per-sample losses over these rows. A data-parallel trainer passes the
// global batch size as denom, so that summing the workers' gradients gives
// the gradient of the mean loss over the whole batch.
func (w *Workspace[T]) LossGrad(loss Loss, y []T, denom float64) float64 {
	l := len(w.m.Layers) - 1
	d := &w.m.Layers[l]
	k := w.n * d.Out
	w.dLast = w.bufA[:k]
	return lossRows(loss, d.Act, w.z[l][:k], w.a[l][:k], y[:k], w.dLast, d.Out, denom, w.rowLSE(loss))
}

// Loss is LossGrad without the gradient: the sum of the per-sample losses of
// the last Forward's rows against y.
func (w *Workspace[T]) Loss(loss Loss, y []T) float64 {
	l := len(w.m.Layers) - 1
	d := &w.m.Layers[l]
	k := w.n * d.Out
	return lossRows(loss, d.Act, w.z[l][:k], w.a[l][:k], y[:k], nil, d.Out, 1, w.rowLSE(loss))
}

// rowLSE is the per-row log-sum-exp of the last Forward for loss.
// Cross-entropy is fused with the softmax output (CheckLoss says so) and
// reuses what the softmax computed instead of exponentiating again.
func (w *Workspace[T]) rowLSE(loss Loss) []float64 {
	if loss != CrossEntropy {
		return nil
	}
	if w.lse == nil {
		panic("model: cross-entropy loss on a model without a softmax output layer (see CheckLoss)")
	}
	return w.lse[:w.n]
}

// Backward propagates the gradient stored by LossGrad back through every
// layer and adds ∂L/∂Params into Grad. For layer l with input X (n, In) and
// output gradient dZ (n, Out):
//
//	dW += dZᵀ·X      (Out, In)
//	db += Σ_rows dZ  (Out)
//	dX  = dZ·W       (n, In), then through the mask and activation below.
func (w *Workspace[T]) Backward() {
	n := w.n
	if w.dLast == nil {
		panic("model: Backward without LossGrad after Forward")
	}
	dz, spare := w.dLast, w.bufB
	w.dLast = nil
	for l := len(w.m.Layers) - 1; l >= 0; l-- {
		d := &w.m.Layers[l]
		var x []T
		if l == 0 {
			x = w.x
		} else if p := &w.m.Layers[l-1]; p.Dropout > 0 && w.train {
			x = w.out[l-1][:n*p.Out]
		} else {
			x = w.a[l-1][:n*p.Out]
		}
		dZ := num.View(n, d.Out, dz)
		gw, gb := d.WeightsIn(w.Grad)
		num.MatMul(true, false, 1, dZ, num.View(n, d.In, x), 1, gw)
		num.AddColSums(gb, dZ)
		if w.AfterLayer != nil {
			w.AfterLayer(l)
		}
		if l == 0 {
			break
		}
		dx := spare[:n*d.In]
		num.MatMul(false, false, 1, dZ, d.W, 0, num.View(n, d.In, dx))
		p := &w.m.Layers[l-1]
		if p.Dropout > 0 && w.train {
			for i, m := range w.mask[l-1][:n*p.Out] {
				dx[i] *= m
			}
		}
		activationBackward(p.Act, w.a[l-1][:n*p.Out], dx, p.Out)
		dz, spare = dx, dz[:cap(dz)]
	}
}
