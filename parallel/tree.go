package parallel

import "github.com/ptrain/ptrain/model/num"

// The in-process sums that feed the weights — the gradients (phaseReduce
// and the overlap path's postLayer) and batch norm's Sync sums — add the
// workers' parts along one fixed pairwise tree, never in arrival order:
// the leaves 0..W−1 split into a first half of ⌈W/2⌉ and the rest, each
// half summed the same way, and the second half's sum added into the
// first's. For W ≤ 3 that is plain worker order; for W = 4 it is
// (g0+g1)+(g2+g3).
//
// Why a tree: across 2 ranks, MPI adds the two rank sums, a + b, and IEEE
// addition is commutative and correctly rounded, so 2 ranks × W workers
// sum exactly as the tree over 2W global workers (rank·W + w) does — whose
// root splits at W. Hence, with the shards of StepIndices (rank r's worker
// w gets global worker r·W+w's rows), 2 × W computes bit for bit what
// 1 × 2W does, in float32 too. For more ranks the MPI library picks its
// own order, and no in-process order can match it. The split weight
// gradients (split.go) compute a lowest pair of the tree as one product,
// not as two added: 2 × W still matches 1 × 2W for W ≥ 2 (each rank's
// lowest pairs are 1 × 2W's; on ptrain's own GEMM kernels, which give a
// product's bits whatever piece of it a chunk asks for), not for W = 1,
// and not on the overlap path, which does not split.

// treeOrder returns the additions of the pairwise tree over n leaves as
// (dst, src) pairs, in an order that is safe in place: add part src into
// part dst; after the last pair part 0 holds the sum. Leaves at or past
// active are known to be zero (workers without rows) and are left out:
// adding +0 changes no sum, so the result is the full tree's.
func treeOrder(n, active int) [][2]int {
	var out [][2]int
	var walk func(lo, hi int)
	walk = func(lo, hi int) {
		if hi-lo < 2 || lo >= active {
			return
		}
		mid := lo + (hi-lo+1)/2
		walk(lo, mid)
		if mid < active {
			walk(mid, hi)
			out = append(out, [2]int{lo, mid})
		}
	}
	walk(0, n)
	return out
}

// treeOrders returns treeOrder(n, a) for every a in 0..n, so that the
// reductions index it by their active count without allocating.
func treeOrders(n int) [][][2]int {
	o := make([][][2]int, n+1)
	for a := range o {
		o[a] = treeOrder(n, a)
	}
	return o
}

// treeBlock is how many elements treeSum adds along the whole tree before
// it moves on: small enough that the W blocks stay in L2 (16 KiB each in
// float32), and no smaller than num's bigVector, so that num.Axpy runs
// the same kernel (OpenBLAS's, in an openblas build) as on whole chunks.
const treeBlock = 4096

// treeSum adds the workers' gradients over [lo, hi) into worker 0's, along
// order (treeOrder), in place: the other workers' buffers keep partial
// sums. Block by block, so that the inner nodes' partial sums stay in
// cache: the tree done layer by layer over whole chunks writes them out
// and reads them back. Measured under load (CPU time of BenchmarkAllReduce,
// P=1M, W=4, best of 5): worker order 1.40 s, this 1.47 s, the tree over
// whole chunks 1.85 s against 1.60 in its run, and summing the inner nodes
// in a per-worker scratch block instead of in place 1.55 s. For W ≤ 3 the
// additions are the old ones. Elementwise addition makes the blocking
// change no bit.
func (t *Trainer[T]) treeSum(order [][2]int, lo, hi int) {
	if len(order) == 1 { // 2 workers: one pass, nothing to keep in cache
		num.Axpy(1, t.ws[order[0][1]].Grad[lo:hi], t.ws[order[0][0]].Grad[lo:hi])
		return
	}
	for b := lo; b < hi; b += treeBlock {
		e := min(b+treeBlock, hi)
		for _, o := range order {
			num.Axpy(1, t.ws[o[1]].Grad[b:e], t.ws[o[0]].Grad[b:e])
		}
	}
}

// treeSumSq is treeSum over worker w's chunk c followed by chunkSumSq(w, c,
// g, false) of worker 0's sum g, in one pass: the tree's last addition
// (its root, into worker 0) also sums the squares, while the block is in
// cache (addSumSq's kernel). The tree goes block by block as in treeSum,
// here sqBlock blocks from each layer's start in the chunk, so that the
// sums of squares round exactly as chunkSumSq's (see sqBlock); the
// additions are elementwise, so the blocks change no bit of them.
// Without the AVX kernel the two passes stay apart. With split, the split
// layers' weights (split.go) are only summed up, not added: splitGrads
// has written their sums.
func (t *Trainer[T]) treeSumSq(order [][2]int, w int, c [2]int, split bool) float64 {
	g := t.ws[0].Grad[c[0]:c[1]]
	if len(order) == 0 || !num.Is32[T]() || !haveAVX {
		t.treeSumExcept(order, c[0], c[1], split)
		return t.chunkSumSq(w, c, g, false)
	}
	inner, root := order[:len(order)-1], order[len(order)-1]
	st := t.st
	var total float64
	at := c[0] // [c[0], at) is summed
	for k := range st.layers {
		l := &st.layers[k]
		st.grad[w][k] = 0
		a, b := max(l.lo, c[0]), min(l.hi, c[1])
		if a >= b {
			continue
		}
		if at < a { // parameters outside every layer, if any: only added
			t.treeSumExcept(order, at, a, split)
		}
		var s float64
		for lo := a; lo < b; lo += sqBlock {
			hi := min(lo+sqBlock, b)
			if split && t.inSplit(lo, hi) {
				// The same bits as addBlockSumSq over the sum (see
				// TestTreeSumSqMatchesApart).
				t.treeSumExcept(order, lo, hi, true)
				s += blockSumSq(num.As32(t.ws[0].Grad[lo:hi]))
				continue
			}
			for _, o := range inner {
				num.Axpy(1, t.ws[o[1]].Grad[lo:hi], t.ws[o[0]].Grad[lo:hi])
			}
			s += addBlockSumSq(num.As32(t.ws[root[0]].Grad[lo:hi]), num.As32(t.ws[root[1]].Grad[lo:hi]))
		}
		st.grad[w][k] = s
		total += s
		at = b
	}
	if at < c[1] {
		t.treeSumExcept(order, at, c[1], split)
	}
	return total
}
