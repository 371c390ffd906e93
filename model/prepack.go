package model

import (
	"runtime"
	"sync/atomic"

	"github.com/ptrain/ptrain/model/num"
)

// SharedPack is one packing of every dense layer's weights for the forward
// product x·Wᵀ (num.PackedB), shared read-only by the workspaces of several
// workers that run the same model's forward pass at the same time on
// different rows. Without it each worker's GEMM packs W itself on every
// call: with few rows per worker that copy is a cost that does not shrink
// with the shard (12% of a 16-row MLP pass), paid W times per step for the
// same weights. With it the workers pack each layer's panels once,
// together: the first Forward to reach a layer claims panels one at a time
// from an atomic counter and packs them, any other arriving meanwhile
// claims the rest, and each then waits (yielding) until the last claimed
// panel is packed. Results equal the unshared pass bit for bit
// (num.GemmPackedB equals num.Gemm).
//
// Contract: Invalidate must be called whenever the weights may have
// changed, while no Forward of a workspace sharing the pack runs (a
// data-parallel trainer: before every phase that runs forward). Every
// workspace sharing it must belong to the same model. Where num's kernels
// would not read a packing of a layer's weights (purego, a CPU without
// AVX2) nothing is packed, and where they would not for a pass's rows
// (num.PackedB.Usable) that pass packs nothing; both run as without it.
type SharedPack[T num.Float] struct {
	slots []*packSlot[T] // per layer of the stack: nil where nothing is packed
	abort atomic.Bool
	cols  *columnSplit[T] // the last SplitColumns' (colsplit.go)
	split bool            // cols is armed
}

// packSlot is the packing of one dense layer's weights for the current
// weights, and who has packed what of it.
type packSlot[T num.Float] struct {
	pb    *num.PackedB[T]
	next  atomic.Int32 // units claimed since Invalidate (may run past the count)
	done  atomic.Int32 // units packed since Invalidate
	abort *atomic.Bool
}

// NewSharedPack lays out the packing of m's dense layers. It allocates
// about as much as the dense weights.
func NewSharedPack[T num.Float](m *Model[T]) *SharedPack[T] {
	s := &SharedPack[T]{slots: make([]*packSlot[T], len(m.stack))}
	for i, l := range m.stack {
		d, ok := l.(*dense[T])
		if !ok {
			continue
		}
		// W is (Out, In): x·Wᵀ reads op(b) = Wᵀ, In×Out.
		if pb := num.NewPackedB[T](true, d.In, d.Out); pb.Units() > 0 {
			s.slots[i] = &packSlot[T]{pb: pb, abort: &s.abort}
		}
	}
	return s
}

// Invalidate marks every layer's packing stale, so that the next Forward
// of the workspaces sharing it packs the weights as they are then. It also
// lifts an Abort. Not safe while any of them runs Forward.
func (s *SharedPack[T]) Invalidate() {
	s.abort.Store(false)
	if c := s.cols; c != nil { // an armed split runs again from its start
		c.arrived.Store(0)
		c.done.Store(0)
	}
	for _, p := range s.slots {
		if p != nil {
			p.next.Store(0)
			p.done.Store(0)
		}
	}
}

// Abort releases for good every Forward waiting for panels another
// goroutine claimed: for a trainer whose coordinator may have died
// mid-pass (a panic), so that the other workers finish instead of waiting
// forever. Their results are then garbage; call Invalidate before the next
// pass.
func (s *SharedPack[T]) Abort() { s.abort.Store(true) }

// ready makes sure the packing of b (leading dimension ldb) is complete,
// packing every panel that nobody has claimed yet.
func (p *packSlot[T]) ready(b []T, ldb int) {
	n := int32(p.pb.Units())
	if p.done.Load() == n {
		return
	}
	for u := p.next.Add(1) - 1; u < n; u = p.next.Add(1) - 1 {
		p.pb.PackUnit(int(u), b, ldb)
		p.done.Add(1)
	}
	for p.done.Load() < n && !p.abort.Load() {
		runtime.Gosched()
	}
}
