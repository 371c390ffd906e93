package model

import "github.com/ptrain/ptrain/model/num"

// A convolution whose output only a batch norm reads (every conv of
// ResNet-8) does not get its output gradient as a whole-batch tensor that
// the norm's Backward writes and the conv's reads back: the norm's
// Backward adds up Σdz and Σdz·x̂ and works out each channel's terms of its
// input gradient, and the conv computes each plane of that gradient —
// its own output gradient — into its group's dZt, where it needs it
// (normBack.plane). Two passes over a whole-batch tensor less per pair:
// the norm's write of dx and the conv's read of it. The conv's dz is
// then the norm's output gradient (Workspace.gradBuffers gives both one
// buffer).
//
// The bits are those of the layers run one by one: each plane is what the
// norm's Backward adds into a cleared dx (the same clear and
// addInputGrad, or in evaluation the same products), and the conv's bias
// gradient adds the same plane sums in the same order.

// fuseConvNormBackward is whether the Workspace lets such convs compute
// their output gradient (a variable for tests that compare with the
// layers run one by one).
var fuseConvNormBackward = true

// normBack is what a conv's Backward needs to compute its output gradient
// from the batch norm that reads its output (pass.NormBack): the norm,
// its float64 scratch (μ and 1/sqrt(σ²+ε) from Forward, the terms of its
// input gradient from its Backward), and the norm's input — the conv's
// output z of the last Forward, (N, C·H·W).
type normBack[T num.Float] struct {
	bn   *batchNorm[T]
	sums []float64
	z    []T
}

// convNormTargets gives, per layer of m's stack, whether it is such a
// conv: its output read by the batch norm after it alone, no activation
// or dropout between them, neither in a fused stage (stage, per layer),
// and not in the wide layout (whose dZt rows are wider than the planes).
func convNormTargets[T num.Float](m *Model[T], stage []fused[T]) []bool {
	t := make([]bool, len(m.stack))
	if !fuseConvNormBackward {
		return t
	}
	for l := range m.stack {
		if c, _ := convIntoNorm(m, l); c != nil && !c.wide() && stage[l] == nil && stage[l+1] == nil {
			t[l] = true
		}
	}
	return t
}

// plane writes into dst the norm's ∂L/∂x of row r, channel ch, from its
// output gradient dy: what its Backward adds into a cleared dx.
func (nb *normBack[T]) plane(train bool, r, ch int, dy, dst []T) {
	l := nb.bn
	o := (r*l.c + ch) * l.hw
	dy, dst = dy[o:o+l.hw], dst[:l.hw]
	clear(dst)
	if !train { // batch norm's Backward in evaluation
		_, inv, _, _ := l.parts(&pass[T]{Sums: nb.sums})
		a := T(float64(l.gamma[ch]) * inv[ch])
		for i, d := range dy {
			dst[i] += d * a
		}
		return
	}
	ts := l.coefs(&pass[T]{Sums: nb.sums})
	addInputGrad(nb.z[o:o+l.hw], dy, dst, (*[5]float64)(ts[5*ch:5*ch+5]))
}

// normDZt is the conv's Backward's rearrangement of dz into dZt and its
// bias gradient for samples [s0, s0+n), when its output gradient is the
// norm's input gradient (nb): each plane computed into dZt, then each
// channel's plane sums (planeSums, into ps) added in sample order, as
// Backward adds them.
func (l *conv[T]) normDZt(p *pass[T], nb *normBack[T], dy, dzt []T, s0, n int, ps, gb []T) {
	cn := n * l.hwc
	for o := 0; o < l.o; o++ {
		row := dzt[o*cn : o*cn+n*l.hw]
		for s := 0; s < n; s++ {
			nb.plane(p.Train, s0+s, o, dy, row[s*l.hw:(s+1)*l.hw])
		}
		sums := ps[o*n : (o+1)*n]
		planeSums(row, l.hw, sums)
		var sum T
		for _, v := range sums {
			sum += v
		}
		gb[o] += sum
	}
}
