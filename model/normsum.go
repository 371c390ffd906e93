package model

import (
	"slices"

	"github.com/ptrain/ptrain/model/num"
)

// A batch norm without an activation whose output only a residual block's
// sum reads, where the sum applies a ReLU (bn.2 in ResNet-8's identity
// block, both norms ending a projection block), is normalised inside the
// sum's pass: its training Forward works out the batch's statistics and
// each channel's affine map (x·a + b, as normalise), and the sum writes
//
//	out = max((x0·a0 + b0) + (x1·a1 + b1), 0)
//
// from the norms' inputs x0, x1 (a plain input of the sum takes a = 1,
// b = 0). The norm's output, a whole-batch tensor that was written once
// and read once, is never stored: a pass and two streams over memory less
// per norm in forward. In backward, the norm reads its output gradient
// where the sum leaves its own (the same values: a sum passes its gradient
// on unchanged), instead of a copy the sum would write
// (Workspace.gradBuffers gives both one buffer).
//
// The bits are those of the passes it replaces: each term is rounded as
// normalise rounds it, and the terms are added in the sum's order. The one
// difference, y·1 + 0 for a plain input y, is +0 where y is −0; a sum
// z + (±0) then differs only in the sign of a zero, which the ReLU
// clears. Batch norm's backward gives the same bits for a −0 in dz as for
// the +0 of the copy (its float64 sums start from +0, and its input
// gradient is added into a dx that never holds −0).

// fuseNormSums is whether the Workspace normalises such batch norms in
// their sum's pass at all (a variable for tests that compare with the
// layers run one by one).
var fuseNormSums = true

// normSumTargets gives, per layer of m's stack, whether it is a batch norm
// that the sum reading it normalises (see above): no activation, no
// dropout, read by exactly one layer, exactly once, and that layer a sum
// of two inputs with a ReLU that fuses it (fuses, the Workspace's
// fusesReLU).
func normSumTargets[T num.Float](m *Model[T], fuses func(l int) bool) []bool {
	t := make([]bool, len(m.stack))
	if !fuseNormSums {
		return t
	}
	lay := m.Layout
	for l := range m.stack {
		if _, ok := m.stack[l].(*batchNorm[T]); !ok {
			continue
		}
		if s := lay.Layers[l].Spec; s.Act.Kind != Identity || s.Dropout != 0 {
			continue
		}
		readers := 0
		r := -1
		for i := range lay.Layers {
			for _, in := range lay.Layers[i].Inputs {
				if in == l {
					readers++
					r = i
				}
			}
		}
		if readers != 1 {
			continue
		}
		if _, ok := m.stack[r].(*sum[T]); ok && len(lay.Layers[r].Inputs) == 2 && fuses(r) {
			t[l] = true
		}
	}
	return t
}

// normInputs gives, per layer, nil or — for a sum with inputs that
// targets marks — per input, nil or the affine coefficients (a, b per
// channel: 2C values of the norm's coefs) that the norm's training or
// evaluation Forward leaves for the sum (pass.Norms).
func normInputs[T num.Float](m *Model[T], targets []bool, sums [][]float64) [][][]float64 {
	ni := make([][][]float64, len(m.stack))
	for l := range m.stack {
		ins := m.Layout.Layers[l].Inputs
		if !slices.ContainsFunc(ins, func(in int) bool { return in >= 0 && targets[in] }) {
			continue
		}
		ni[l] = make([][]float64, len(ins))
		for i, in := range ins {
			if in >= 0 && targets[in] {
				bn := m.stack[in].(*batchNorm[T])
				ni[l][i] = bn.coefs(&pass[T]{Sums: sums[in]})[:2*bn.c]
			}
		}
	}
	return ni
}

// prepareAffine is Forward for a norm that its sum normalises: the batch's
// (or the running) statistics, and each channel's affine map in coefs,
// where normInputs points the sum.
func (l *batchNorm[T]) prepareAffine(p *pass[T], x []T) {
	if l.prepare(p, x) {
		mean, inv, _, _ := l.parts(p)
		l.affines(mean, inv, l.coefs(p))
	}
}

// addNormsReLU writes a = max(t0 + t1, 0) for the sum's two inputs, with
// t = x·a + b per channel where p.Norms gives a norm's coefficients for
// that input (xs holds the norm's input there), else t = x: c channels of
// hw values per row.
func addNormsReLU[T num.Float](p *pass[T], xs [][]T, a []T, c, hw int) {
	var k [2][]float64
	copy(k[:], p.Norms)
	for r := 0; r < p.N; r++ {
		for ch := 0; ch < c; ch++ {
			o := (r*c + ch) * hw
			var f [4]T
			for i := range 2 {
				f[2*i] = 1
				if k[i] != nil {
					f[2*i], f[2*i+1] = T(k[i][2*ch]), T(k[i][2*ch+1])
				}
			}
			affine2AddReLU(a[o:o+hw], xs[0][o:o+hw], xs[1][o:o+hw], &f)
		}
	}
}

// affine2AddReLU writes a = max((x·f0 + f1) + (y·f2 + f3), 0), each
// product rounded to T; 8 lanes at a time in assembly for float32 where
// AVX2 is there, with the same bits.
func affine2AddReLU[T num.Float](a, x, y []T, f *[4]T) {
	a, y = a[:len(x)], y[:len(x)]
	i := 0
	if n := len(x) &^ 7; num.Is32[T]() && haveAVX2 && n > 0 {
		affine2AddReLU32AVX(&num.As32(a)[0], &num.As32(x)[0], &num.As32(y)[0], n, float32(f[0]), float32(f[1]), float32(f[2]), float32(f[3]))
		i = n
	}
	for ; i < len(x); i++ {
		a[i] = reluBits((T(x[i]*f[0]) + f[1]) + (T(y[i]*f[2]) + f[3]))
	}
}
