package parallel

import (
	"sync/atomic"

	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// The update phase (phaseApply) is elementwise — clipping's scale and
// clamp, then the optimizer — so who updates which parameter changes no
// bit. It is cut into blocks of at most applyBlock parameters, each inside
// one layer (model.Layout.Groups), and the workers claim blocks instead of
// each updating a fixed chunk: worker w first takes the blocks that start
// in its reduction chunk (whose sums it has just written, so they are in
// its cache) from the front, in order, and then helps with the other
// workers' blocks, w+1, w+2, …, taking each one's from the back, so that
// owner and helper meet once instead of alternating blocks (whose cache
// lines would then go back and forth between their cores). A worker that its core holds back
// (another process, a slower vCPU) thus no longer sets the phase's
// length. Measured for the MNIST MLP, 2 workers, batch 32: with fixed
// chunks, worker 1's half of the update ended 8.7 µs (25%) after worker
// 0's whenever both had a core; when worker 1's core was taken, the
// phase's 25th percentile moved from 70.5 to 76.0 µs at batch 32 (slower)
// and from 78.3 to 74.3 at 64: what the claims gain on the wall clock was
// not settled under that load (bench/README.md, #24).
//
// The per-layer statistics of the update (Σθ², Σ(Δθ)²) are summed per
// block and added in block order by the coordinator, so they do not depend
// on who claimed what, nor on the number of workers.

// updateBlock is one block of the update phase: Params[lo:hi], inside the
// layer statsState.layers[layer], or outside every layer if layer < 0.
type updateBlock struct {
	lo, hi, layer int
}

// updateShare is worker w's own blocks, [lo, hi) of Trainer.blocks, and
// which of them are still unclaimed: [lo+front, lo+back), packed as
// front<<32 | back in one word so that the owner (from the front) and its
// helpers (from the back) claim with one compare-and-swap each. The
// padding keeps each word on a cache line of its own.
type updateShare struct {
	lo, hi int32
	left   atomic.Uint64
	_      [48]byte
}

// claim takes the next unclaimed block, from the front or the back, and
// reports false if none is left.
func (sh *updateShare) claim(front bool) (int, bool) {
	for {
		v := sh.left.Load()
		f, b := v>>32, v&(1<<32-1)
		if f >= b {
			return 0, false
		}
		n, at := (f+1)<<32|b, f
		if !front {
			n, at = f<<32|(b-1), b-1
		}
		if sh.left.CompareAndSwap(v, n) {
			return int(sh.lo) + int(at), true
		}
	}
}

// updateBlocks cuts [0, p) into blocks of at most applyBlock parameters
// that each lie within one of layers' ranges (ascending and disjoint) or
// in a gap between them.
func updateBlocks(p int, layers []layerStat) []updateBlock {
	var out []updateBlock
	cut := func(lo, hi, layer int) {
		for ; lo < hi; lo += applyBlock {
			out = append(out, updateBlock{lo, min(lo+applyBlock, hi), layer})
		}
	}
	at := 0
	for k, l := range layers {
		cut(at, l.lo, -1)
		cut(l.lo, l.hi, k)
		at = l.hi
	}
	cut(at, p, -1)
	return out
}

// updateShares gives each worker the blocks that start in its chunk.
func updateShares(blocks []updateBlock, chunks [][2]int) []updateShare {
	sh := make([]updateShare, len(chunks))
	b := 0
	for w, c := range chunks {
		sh[w].lo = int32(b)
		for b < len(blocks) && (blocks[b].lo < c[1] || w == len(chunks)-1) {
			b++
		}
		sh[w].hi = int32(b)
	}
	return sh
}

// resetUpdate makes every block claimable again. Coordinator only, between
// phases.
func (t *Trainer[T]) resetUpdate() {
	for w := range t.shares {
		sh := &t.shares[w]
		sh.left.Store(uint64(sh.hi - sh.lo))
	}
}

// update is worker w's part of phaseApply: it claims and updates blocks,
// its own first, until none is left. coef scales the gradient first
// (norm clipping; 1 for none).
func (t *Trainer[T]) update(w int, coef T) {
	n := len(t.shares)
	for k := range n {
		sh := &t.shares[(w+k)%n]
		for {
			b, ok := sh.claim(k == 0)
			if !ok {
				break
			}
			t.updateBlock(w, b, coef)
		}
	}
}

// updateBlock clips and updates block b of the parameters from worker 0's
// buffer, which holds the reduced gradient. With statistics on it also
// sums θ² before the update and (Δθ)² of it into the block's figures, in
// vectorised passes over the block while it is in cache (normsq.go), from
// a copy of θ in worker w's scratch block.
func (t *Trainer[T]) updateBlock(w, b int, coef T) {
	blk := t.blocks[b]
	p, g := t.m.Params[blk.lo:blk.hi], t.ws[0].Grad[blk.lo:blk.hi]
	if coef != 1 {
		num.Scal(coef, g)
	}
	if t.cfg.ClipValue > 0 {
		optim.ClipValue(g, t.cfg.ClipValue)
	}
	st := t.st
	if !st.on || blk.layer < 0 {
		t.opt.Apply(t.m.Params, t.ws[0].Grad, blk.lo, blk.hi)
		return
	}
	o := st.old[w][:len(p)]
	st.wsq[b] = copySumSq(o, p)
	t.opt.Apply(t.m.Params, t.ws[0].Grad, blk.lo, blk.hi)
	st.dsq[b] = diffSumSq(o, p)
}
