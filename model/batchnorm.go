package model

import (
	"math"

	"github.com/ptrain/ptrain/model/num"
)

// BatchNorm's constants, PyTorch's defaults.
const (
	BatchNormEps      = 1e-5
	BatchNormMomentum = 0.1
)

// batchNorm normalises each channel (C×H×W input: over the batch and the
// H·W positions, BatchNorm2d) or each feature (flat input: over the batch,
// BatchNorm1d), then scales and shifts it:
//
//	z = γ·x̂ + β,  x̂ = (x − μ)/sqrt(σ² + ε)
//
// In training μ and σ² are the batch's mean and biased variance, summed
// over the whole batch through pass.Sync (every worker and rank, as
// PyTorch's SyncBatchNorm), and the running estimates move towards them:
// r_μ ← (1−m)·r_μ + m·μ, r_σ² ← (1−m)·r_σ² + m·σ²·N/(N−1) (unbiased; with
// N = 1 the biased σ² is used). In evaluation μ, σ² are the running ones.
//
// Backward, with N values per channel and sums over the whole batch:
//
//	dγ += Σ dz·x̂,  dβ += Σ dz
//	dx += γ/sqrt(σ² + ε) · (dz − Σdz/N − x̂·Σ(dz·x̂)/N)
//
// Each part adds its own share of dγ and dβ (the trainer's all-reduce sums
// them) but needs the whole batch's sums for dx: one Sync.
type batchNorm[T num.Float] struct {
	info      *LayerInfo
	c, hw     int
	gamma     []T
	beta      []T
	rm, rv, t int // offsets in Buffers: running mean, running variance, num_batches_tracked (exact up to 2²⁴ in float32)
}

func newBatchNorm[T num.Float](m *Model[T], info *LayerInfo) *batchNorm[T] {
	l := &batchNorm[T]{info: info, c: info.In[0], hw: info.In.Size() / info.In[0]}
	g, b := info.Params[0], info.Params[1]
	l.gamma, l.beta = m.Params[g.Offset:g.Offset+l.c], m.Params[b.Offset:b.Offset+l.c]
	l.rm, l.rv, l.t = info.Buffers[0].Offset, info.Buffers[1].Offset, info.Buffers[2].Offset
	return l
}

func (l *batchNorm[T]) Info() *LayerInfo { return l.info }

// Scratch is 0: what batch norm keeps between its passes is float64 (see
// syncLen).
func (l *batchNorm[T]) Scratch(int) int { return 0 }

// syncLen is the float64 scratch: μ, 1/sqrt(σ²+ε) per channel, N, the
// sums a pass synchronises (up to 2C+1 values), and 5 coefficients per
// channel (coefs).
func (l *batchNorm[T]) syncLen() int { return 9*l.c + 2 }

// parts cuts the float64 scratch.
func (l *batchNorm[T]) parts(p *pass[T]) (mean, inv, n, sums []float64) {
	c := l.c
	return p.Sums[:c], p.Sums[c : 2*c], p.Sums[2*c : 2*c+1], p.Sums[2*c+1 : 4*c+2]
}

// coefs is the float64 scratch where the passes over the output and the
// input gradient keep each channel's coefficients (5 per channel: the
// affine map's a and b, or inputGradTerms), worked out once so that the
// passes run sample by sample through memory, not channel by channel: a
// channel's planes lie C·H·W apart, and at 7×7 a plane is three cache
// lines, too short a run for the hardware prefetcher.
func (l *batchNorm[T]) coefs(p *pass[T]) []float64 {
	return p.Sums[4*l.c+2 : 9*l.c+2]
}

func (l *batchNorm[T]) Forward(p *pass[T], x, z []T) {
	if l.prepare(p, x) {
		mean, inv, _, _ := l.parts(p)
		l.normalise(p.N, x, z, mean, inv, l.coefs(p))
	}
}

// prepare is Forward up to the normalisation: it leaves μ and 1/√(σ²+ε)
// in the pass's float64 scratch — the batch's, synchronised, with the
// running statistics updated, in a training pass; the running ones
// otherwise — and reports whether there is anything to normalise (a
// training pass over an empty batch leaves everything as it was).
func (l *batchNorm[T]) prepare(p *pass[T], x []T) bool {
	c, hw := l.c, l.hw
	mean, inv, count, sums := l.parts(p)
	if !p.Train {
		for ch := 0; ch < c; ch++ {
			mean[ch] = float64(p.Buffers[l.rm+ch])
			inv[ch] = 1 / math.Sqrt(float64(p.Buffers[l.rv+ch])+BatchNormEps)
		}
		return true
	}
	// μ: one synchronised sum of (count, Σx per channel); Σx, unless the
	// conv before has added it up already (Presummed, the same terms in
	// the same order: presumTargets).
	s := sums[:c+1]
	if !p.Presummed {
		clear(s)
		for r := 0; r < p.N; r++ {
			for ch := 0; ch < c; ch++ {
				s[1+ch] += sumF64(x[(r*c+ch)*hw : (r*c+ch+1)*hw])
			}
		}
	}
	s[0] = float64(p.N * hw)
	l.sync(p, s)
	n := s[0]
	count[0] = n
	if n == 0 {
		// An empty batch (every part of it empty, so every part returns
		// here alike): nothing to normalise, and no statistics to fold
		// into the running ones, which 0/0 would turn to NaN.
		return false
	}
	for ch := 0; ch < c; ch++ {
		mean[ch] = s[1+ch] / n
	}
	// σ²: a second pass over (x − μ)², for accuracy when |μ| ≫ σ.
	v := sums[:c]
	clear(v)
	for r := 0; r < p.N; r++ {
		for ch := 0; ch < c; ch++ {
			v[ch] += sqDevF64(x[(r*c+ch)*hw:(r*c+ch+1)*hw], mean[ch])
		}
	}
	l.sync(p, v)
	for ch := 0; ch < c; ch++ {
		variance := v[ch] / n
		inv[ch] = 1 / math.Sqrt(variance+BatchNormEps)
		unbiased := variance
		if n > 1 {
			unbiased = variance * n / (n - 1)
		}
		rm, rv := &p.Buffers[l.rm+ch], &p.Buffers[l.rv+ch]
		*rm = T((1-BatchNormMomentum)*float64(*rm) + BatchNormMomentum*mean[ch])
		*rv = T((1-BatchNormMomentum)*float64(*rv) + BatchNormMomentum*unbiased)
	}
	p.Buffers[l.t]++
	return true
}

// presumTargets gives, for each layer l of m's stack that is a conv
// without an activation or dropout whose output a batch norm at l+1 alone
// reads (and that is all the norm reads), where in that norm's float64
// scratch (sums[l+1], syncLen values) its training Forward should leave
// Σx per channel (pass.OutSums); nil for every other layer. The conv adds
// each plane's sumF64 as it writes it, channel by channel in row order:
// the terms prepare would add, in its order, without reading the conv's
// output again.
func presumTargets[T num.Float](m *Model[T], sums [][]float64) [][]float64 {
	t := make([][]float64, len(m.stack))
	for l := range m.stack {
		if _, bn := convIntoNorm(m, l); bn != nil {
			t[l] = sums[l+1][2*bn.c+2 : 3*bn.c+2] // s[1:] of prepare
		}
	}
	return t
}

// convIntoNorm returns layer l as a conv, and the batch norm at l+1, where
// the conv has no activation or dropout and that norm alone reads its
// output (and reads nothing else): the pairs whose passes share work
// (presumTargets, convNormTargets); nils otherwise.
func convIntoNorm[T num.Float](m *Model[T], l int) (*conv[T], *batchNorm[T]) {
	if l+1 >= len(m.stack) {
		return nil, nil
	}
	c, isConv := m.stack[l].(*conv[T])
	bn, isNorm := m.stack[l+1].(*batchNorm[T])
	s := m.Layout.Layers[l].Spec
	if !isConv || !isNorm || s.Act.Kind != Identity || s.Dropout != 0 || !soleReader(m.Layout, l, l+1) {
		return nil, nil
	}
	return c, bn
}

// sync sums s over the whole batch when the pass holds a part of it.
func (l *batchNorm[T]) sync(p *pass[T], s []float64) {
	if p.Sync != nil {
		p.Sync(s)
	}
}

// affine is channel ch's normalisation as x·a + b: a = γ·inv and
// b = β − μ·a, computed in float64 and rounded to T.
func (l *batchNorm[T]) affine(ch int, mean, inv []float64) (a, b T) {
	fa := float64(l.gamma[ch]) * inv[ch]
	return T(fa), T(float64(l.beta[ch]) - mean[ch]*fa)
}

// forwardReLU is Forward with the ReLU after it in the same pass (see
// reluFused).
func (l *batchNorm[T]) forwardReLU(p *pass[T], xs [][]T, a []T) {
	if l.prepare(p, xs[0]) {
		mean, inv, _, _ := l.parts(p)
		l.normaliseReLU(p.N, xs[0], a, mean, inv, l.coefs(p), p.ActSums)
	}
}

// normalise writes z = γ·(x − μ)·inv + β, computed as x·a + b (affine),
// with ab (2C values of coefs) as scratch.
func (l *batchNorm[T]) normalise(n int, x, z []T, mean, inv, ab []float64) {
	l.affines(mean, inv, ab)
	c, hw := l.c, l.hw
	for r := 0; r < n; r++ {
		for ch := 0; ch < c; ch++ {
			o := (r*c + ch) * hw
			affinePlane(x[o:o+hw], z[o:o+hw], T(ab[2*ch]), T(ab[2*ch+1]))
		}
	}
}

// normaliseReLU writes a = max(normalise's z, 0), and adds each plane's
// sum4 into act per channel unless act is nil (pass.ActSums).
func (l *batchNorm[T]) normaliseReLU(n int, x, a []T, mean, inv, ab []float64, act []T) {
	l.affines(mean, inv, ab)
	c, hw := l.c, l.hw
	for r := 0; r < n; r++ {
		for ch := 0; ch < c; ch++ {
			o := (r*c + ch) * hw
			affineReLUPlane(x[o:o+hw], a[o:o+hw], T(ab[2*ch]), T(ab[2*ch+1]))
			if act != nil {
				act[ch] += sum4(a[o : o+hw])
			}
		}
	}
}

// affines sets ab[2·ch], ab[2·ch+1] to channel ch's affine a and b: values
// of T, which float64 holds exactly.
func (l *batchNorm[T]) affines(mean, inv, ab []float64) {
	for ch := 0; ch < l.c; ch++ {
		a, b := l.affine(ch, mean, inv)
		ab[2*ch], ab[2*ch+1] = float64(a), float64(b)
	}
}

// affineReLUPlane writes a = max(x·a + b, 0), affinePlane's value and
// reluForward's bit operations; 8 lanes at a time in assembly for float32
// where AVX2 is there.
func affineReLUPlane[T num.Float](x, z []T, a, b T) {
	z = z[:len(x)]
	i := 0
	if n := len(x) &^ 7; num.Is32[T]() && haveAVX2 && n > 0 {
		affineReLU32AVX(&num.As32(x)[0], &num.As32(z)[0], n, float32(a), float32(b))
		i = n
	}
	for ; i < len(x); i++ {
		z[i] = reluBits(T(x[i]*a) + b)
	}
}

// affinePlane writes z = x·a + b, 8 lanes at a time in assembly for
// float32 where AVX2 is there, with the same bits.
func affinePlane[T num.Float](x, z []T, a, b T) {
	z = z[:len(x)]
	i := 0
	if n := len(x) &^ 7; num.Is32[T]() && haveAVX2 && n > 0 {
		affine32AVX(&num.As32(x)[0], &num.As32(z)[0], n, float32(a), float32(b))
		i = n
	}
	for ; i < len(x); i++ {
		z[i] = T(x[i]*a) + b // the conversion keeps the product rounded: no FMA on any platform, as in the fused pooling
	}
}

func (l *batchNorm[T]) Backward(p *pass[T], x, dz, dx []T) {
	c, hw := l.c, l.hw
	mean, inv, _, sums := l.parts(p)
	// Σdz and Σdz·x̂ = inv·Σdz·(x − μ) per channel over this part's rows.
	sdy, sdyx := sums[:c], sums[c:2*c]
	clear(sums[:2*c])
	ab := l.coefs(p)
	if p.ReLUBackward {
		l.affines(mean, inv, ab) // Forward's, to tell where its ReLU was 0
	}
	for r := 0; r < p.N; r++ {
		for ch := 0; ch < c; ch++ {
			o := (r*c + ch) * hw
			if p.ReLUBackward {
				// dz through the ReLU, while the plane is in cache for
				// the sums.
				reluMaskPlane(x[o:o+hw], dz[o:o+hw], T(ab[2*ch]), T(ab[2*ch+1]))
			}
			s1, s2 := gradSumsF64(dz[o:o+hw], x[o:o+hw], mean[ch])
			sdy[ch] += s1
			sdyx[ch] += s2
		}
	}
	for ch := 0; ch < c; ch++ {
		sdyx[ch] *= inv[ch]
	}
	l.addGrads(p)
	if !p.Train {
		// Running statistics are constants: dx = dz·γ·inv.
		if dx != nil {
			for r := 0; r < p.N; r++ {
				for ch := 0; ch < c; ch++ {
					o, a := (r*c+ch)*hw, T(float64(l.gamma[ch])*inv[ch])
					if p.freshDx(0) {
						clear(dx[o : o+hw])
					}
					for i, d := range dz[o : o+hw] {
						dx[o+i] += d * a
					}
				}
			}
		}
		return
	}
	if !l.syncGrads(p) {
		return
	}
	ts := l.coefs(p) // also for the conv before, where it computes the planes of dx itself (convnorm.go)
	for ch := 0; ch < c; ch++ {
		m, iv, k, mdy, mdyx := l.inputGradTerms(p, ch)
		copy(ts[5*ch:5*ch+5], []float64{m, iv, k, mdy, mdyx})
	}
	if dx == nil {
		return
	}
	for r := 0; r < p.N; r++ {
		for ch := 0; ch < c; ch++ {
			o := (r*c + ch) * hw
			if p.freshDx(0) {
				clear(dx[o : o+hw])
			}
			addInputGrad(x[o:o+hw], dz[o:o+hw], dx[o:o+hw], (*[5]float64)(ts[5*ch:5*ch+5]))
		}
	}
}

// reluBackFused: with a fused ReLU, Backward takes dz through it in its
// first pass (pass.ReLUBackward).
func (l *batchNorm[T]) reluBackFused() {}

// reluMaskPlane zeroes d where max(x·a + b, 0), affineReLUPlane's value,
// is 0: reluBackward's result for that output, without reading it. The
// output is not 0 exactly when the bits of x·a + b, as a signed integer,
// are positive (sign clear, not +0). 8 lanes at a time in assembly for
// float32 where AVX2 is there, with the same bits.
func reluMaskPlane[T num.Float](x, d []T, a, b T) {
	d = d[:len(x)]
	i := 0
	if n := len(x) &^ 7; num.Is32[T]() && haveAVX2 && n > 0 {
		reluMask32AVX(&num.As32(x)[0], &num.As32(d)[0], n, float32(a), float32(b))
		i = n
	}
	for ; i < len(x); i++ {
		if reluBits(T(x[i]*a)+b) == 0 {
			d[i] = 0
		}
	}
}

// clearsOwnDx: Backward clears each plane of dx right before adding into
// it (pass.FreshDx). An empty batch has no rows, so nothing of dx is left
// undefined when Backward returns early.
func (l *batchNorm[T]) clearsOwnDx() {}

// addInputGrad adds a training pass's ∂L/∂x of one plane into dx: with
// t = (m, iv, k, mdy, mdyx) (inputGradTerms), dx += k·(dz − mdy − x̂·mdyx),
// x̂ = (x − m)·iv, in float64; 4 lanes at a time in assembly for float32
// where AVX2 is there, with the same bits (the conversions round every
// product, so that no platform fuses one into an FMA).
func addInputGrad[T num.Float](x, dz, dx []T, t *[5]float64) {
	dz, dx = dz[:len(x)], dx[:len(x)]
	i := 0
	if n := len(x) &^ 3; num.Is32[T]() && haveAVX2 && n > 0 {
		inputGrad32AVX(&num.As32(x)[0], &num.As32(dz)[0], &num.As32(dx)[0], n, t)
		i = n
	}
	m, iv, k, mdy, mdyx := t[0], t[1], t[2], t[3], t[4]
	for ; i < len(x); i++ {
		xh := float64((float64(x[i]) - m) * iv)
		dx[i] += T(k * (float64(dz[i]) - mdy - float64(xh*mdyx)))
	}
}

// addGrads adds this part's sums Σdy and Σdy·x̂ (in the pass's float64
// scratch, where Backward leaves them) into the β and γ gradients.
func (l *batchNorm[T]) addGrads(p *pass[T]) {
	_, _, _, sums := l.parts(p)
	g, b := l.info.Params[0].Offset, l.info.Params[1].Offset
	for ch := 0; ch < l.c; ch++ {
		p.Grad[g+ch] += T(sums[l.c+ch])
		p.Grad[b+ch] += T(sums[ch])
	}
}

// syncGrads sums Σdy and Σdy·x̂ over the whole batch for the input
// gradient of a training pass, and reports whether there is one: an empty
// batch, on every part alike, has none.
func (l *batchNorm[T]) syncGrads(p *pass[T]) bool {
	_, _, count, sums := l.parts(p)
	if count[0] == 0 {
		return false
	}
	l.sync(p, sums[:2*l.c])
	return true
}

// inputGradTerms are channel ch's terms of a training pass's input
// gradient, ∂L/∂x = k·(dy − mdy − x̂·mdyx) with x̂ = (x − m)·iv, once the
// sums are synchronised.
func (l *batchNorm[T]) inputGradTerms(p *pass[T], ch int) (m, iv, k, mdy, mdyx float64) {
	mean, inv, count, sums := l.parts(p)
	n := count[0]
	m, iv = mean[ch], inv[ch]
	return m, iv, float64(l.gamma[ch]) * iv, sums[ch] / n, sums[l.c+ch] / n
}
