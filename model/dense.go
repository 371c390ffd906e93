package model

import "github.com/ptrain/ptrain/model/num"

// dense is a fully connected layer, a view into a Model's Params: its
// weight matrix (Out, In), row-major — the layout of PyTorch's
// nn.Linear.weight — followed by its bias (Out).
type dense[T num.Float] struct {
	In, Out int
	Act     Activation
	Dropout float64
	Offset  int           // index of W's first element in Params
	W       num.Matrix[T] // (Out, In)
	B       []T           // (Out)
	info    *LayerInfo
}

func newDense[T num.Float](params []T, info *LayerInfo) dense[T] {
	in, out, off := info.In[0], info.Out[0], info.Params[0].Offset
	return dense[T]{In: in, Out: out, Act: info.Spec.Act, Dropout: info.Spec.Dropout, Offset: off,
		W: num.View(out, in, params[off:]), B: params[off+out*in : off+out*in+out], info: info}
}

// WeightsIn returns the views of layer l's weight (Out, In) and bias (Out)
// inside buf, a buffer with the layout of Params (a gradient, say).
func (d *dense[T]) WeightsIn(buf []T) (num.Matrix[T], []T) {
	w := num.View(d.Out, d.In, buf[d.Offset:])
	o := d.Offset + d.Out*d.In
	return w, buf[o : o+d.Out]
}

// Info is where the layer sits in its model.
func (d *dense[T]) Info() *LayerInfo { return d.info }

// Scratch is 0: a dense layer keeps nothing between its passes.
func (d *dense[T]) Scratch(int) int { return 0 }

// Forward computes z = x·Wᵀ + b; x is (n, In), W is (Out, In).
func (d *dense[T]) Forward(p *pass[T], x, z []T) {
	zm := num.View(p.N, d.Out, z)
	for i := 0; i < p.N; i++ {
		copy(zm.Row(i), d.B)
	}
	if pk := p.pack; pk != nil && p.N > 0 && pk.pb.Usable(p.N) {
		pk.ready(d.W.Data, d.In) // the same product, W packed once for every worker
		num.GemmPackedB(p.N, 1, x, d.In, pk.pb, d.W.Data, d.In, 1, z, d.Out)
		return
	}
	num.MatMul(false, true, 1, num.View(p.N, d.In, x), d.W, 1, zm)
}

// Backward, for input X (n, In) and output gradient dZ (n, Out):
//
//	dW += dZᵀ·X      (Out, In)
//	db += Σ_rows dZ  (Out)
//	dX += dZ·W       (n, In)
//
// (dW = and db = on a fresh gradient, see pass.Fresh. Deferred — pass.keepDZ
// — the dW product is left out, and on a fresh gradient dW stays undefined.)
func (d *dense[T]) Backward(p *pass[T], x, dz, dx []T) {
	dZ := num.View(p.N, d.Out, dz)
	gw, gb := d.WeightsIn(p.Grad)
	beta := T(1)
	if p.Fresh { // gw and gb are undefined: write them (beta = 0 reads nothing)
		beta = 0
		clear(gb)
	}
	if p.keepDZ != nil { // deferred: WeightGrad computes dW later from copies of dZ and X
		copy(p.keepDZ[:len(dz)], dz)
		if len(x) > 0 && &p.keepX[:len(x)][0] != &x[0] { // unless X already is there
			copy(p.keepX, x)
		}
	} else {
		num.MatMul(true, false, 1, dZ, num.View(p.N, d.In, x), beta, gw)
	}
	num.AddColSums(gb, dZ)
	if dx != nil {
		num.MatMul(false, false, 1, dZ, d.W, 1, num.View(p.N, d.In, dx))
	}
}
