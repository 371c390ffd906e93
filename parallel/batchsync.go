package parallel

import (
	"runtime"
	"sync/atomic"
)

// batchSync sums a vector of batch statistics over every worker of the
// process — along the fixed pairwise tree of tree.go, so that the result does not depend on who
// arrives first — and, across processes, over every rank. It is the
// Workspace.Sync of each worker when the model has batch norm: all W
// workers call it at the same points of a training pass (a worker without
// rows too), so it is a barrier. The last worker to arrive adds the parts
// and bumps the generation; the others yield until it has.
//
// Ownership: part w is written only by worker w before it arrives; sum is
// written only by the last arriver, and read by each worker after the
// generation moved and before it arrives at the next barrier — which
// cannot complete without it, so sum is never overwritten under a reader.
type batchSync struct {
	parts   [][]float64
	order   [][2]int // treeOrder over all workers: every one posts, also without rows
	sum     []float64
	arrived atomic.Int32
	gen     atomic.Uint64
	// abort releases every waiter for good: Run sets it when it ends, so
	// that workers stuck at a barrier that can no longer complete (the
	// coordinator panicked in worker 0's share) finish their phase
	// instead of spinning forever. Their figures are then garbage, and
	// nobody reads them.
	abort atomic.Bool
	// reduce, with a Group, sums the process's vector across ranks (the
	// trainer routes it through its comm goroutine); nil in one process.
	reduce func([]float64) error
	err    error // the first reduce error, for the coordinator after the phase
}

func newBatchSync(workers int, order [][2]int) *batchSync {
	return &batchSync{parts: make([][]float64, workers), order: order}
}

// part returns worker w's Sync function.
func (b *batchSync) part(w int) func([]float64) {
	if len(b.parts) == 1 {
		return func(v []float64) {
			if b.reduce != nil && b.err == nil {
				b.err = b.reduce(v)
			}
		}
	}
	return func(v []float64) { b.do(w, v) }
}

func (b *batchSync) do(w int, v []float64) {
	if b.abort.Load() {
		return
	}
	g := b.gen.Load()
	b.parts[w] = append(b.parts[w][:0], v...) // allocates on a worker's first call only
	if int(b.arrived.Add(1)) == len(b.parts) {
		if cap(b.sum) < len(v) {
			b.sum = make([]float64, len(v))
		}
		s := b.sum[:len(v)]
		for _, o := range b.order { // in place: the parts are rewritten on every call
			d := b.parts[o[0]][:len(s)]
			for i, x := range b.parts[o[1]][:len(s)] {
				d[i] += x
			}
		}
		copy(s, b.parts[0])
		if b.reduce != nil && b.err == nil {
			b.err = b.reduce(s)
		}
		b.arrived.Store(0)
		b.gen.Add(1)
	} else {
		for b.gen.Load() == g {
			if b.abort.Load() {
				return
			}
			runtime.Gosched()
		}
	}
	copy(v, b.sum[:len(v)])
}

// reset readies the barrier for a new Run: nobody is waiting at it then.
func (b *batchSync) reset() {
	b.abort.Store(false)
	b.arrived.Store(0)
	b.err = nil
}

// takeErr returns and clears the first reduce error of the last phase.
func (b *batchSync) takeErr() error {
	err := b.err
	b.err = nil
	return err
}
