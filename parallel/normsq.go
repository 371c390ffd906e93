package parallel

import "github.com/ptrain/ptrain/model/num"

// The two passes the optimizer phase adds per block when statistics are
// on (updateBlock): before the update, copy θ and sum θ²; after it, sum
// (θ_old − θ_new)². In float32 on amd64 each is one AVX pass (16 lanes of
// float32 partial sums over a block of at most applyBlock elements, then
// float64); elsewhere they are the BLAS's copy, dot and axpy.

// copySumSq copies src to dst and returns Σ src².
func copySumSq[T num.Float](dst, src []T) float64 {
	dst = dst[:len(src)]
	if !num.Is32[T]() || !haveAVX || len(src) < 16 {
		copy(dst, src)
		return float64(num.Dot(dst, dst))
	}
	n := len(src) &^ 15
	s := float64(copySumSq32AVX(&num.As32(dst)[0], &num.As32(src)[0], n))
	copy(dst[n:], src[n:])
	for _, v := range src[n:] {
		s += float64(v) * float64(v)
	}
	return s
}

// diffSumSq returns Σ (a − b)². It may overwrite a.
func diffSumSq[T num.Float](a, b []T) float64 {
	a = a[:len(b)]
	if !num.Is32[T]() || !haveAVX || len(b) < 16 {
		num.Axpy(-1, b, a)
		return float64(num.Dot(a, a))
	}
	n := len(b) &^ 15
	s := float64(diffSumSq32AVX(&num.As32(a)[0], &num.As32(b)[0], n))
	for i := n; i < len(b); i++ {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}

// sqBlock is how many elements the check's Σg² (sumSq, addSumSq) sums in
// float32 lanes before it adds the block's sum to a float64 total: the
// float32 partial sums then each hold at most sqBlock/16 squares. Blocks
// start at the slice's start, and each block's sum is a float64 of its own
// (blockSumSq), so that a caller that goes block by block (treeSumSq)
// rounds exactly as one call over the whole slice.
const sqBlock = 4096

// sumSq returns Σ x², the check pass's sum over the reduced gradient. In
// float32 on amd64 it is one AVX pass per block of sqBlock elements, the
// block sums added in float64; elsewhere the BLAS's dot. NaN or Inf in x
// makes the sum NaN or Inf (squares are never negative, so no Inf cancels).
func sumSq[T num.Float](x []T) float64 {
	if !num.Is32[T]() || !haveAVX {
		return float64(num.Dot(x, x))
	}
	var s float64
	for lo := 0; lo < len(x); lo += sqBlock {
		s += blockSumSq(num.As32(x[lo:min(lo+sqBlock, len(x))]))
	}
	return s
}

// addSumSq adds x into y and returns sumSq(y) of the sum — the same bits
// as num.Axpy(1, x, y) followed by sumSq(y), in one pass: the reduction's
// last addition and the check, while the sum is in registers.
func addSumSq[T num.Float](y, x []T) float64 {
	y = y[:len(x)]
	if !num.Is32[T]() || !haveAVX {
		num.Axpy(1, x, y)
		return sumSq(y)
	}
	var s float64
	for lo := 0; lo < len(x); lo += sqBlock {
		hi := min(lo+sqBlock, len(x))
		s += addBlockSumSq(num.As32(y[lo:hi]), num.As32(x[lo:hi]))
	}
	return s
}

// blockSumSq is sumSq's sum over one block (AVX only).
func blockSumSq(b []float32) float64 {
	var s float64
	n := len(b) &^ 15
	if n > 0 {
		s = float64(sumSq32AVX(&b[0], n))
	}
	for _, v := range b[n:] {
		s += float64(v) * float64(v)
	}
	return s
}

// addBlockSumSq is addSumSq's pass over one block (AVX only).
func addBlockSumSq(y, x []float32) float64 {
	var s float64
	n := len(x) &^ 15
	if n > 0 {
		s = float64(addSumSq32AVX(&y[0], &x[0], n))
	}
	for i := n; i < len(x); i++ {
		y[i] += x[i]
		s += float64(y[i]) * float64(y[i])
	}
	return s
}
