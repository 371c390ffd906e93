package parallel

import (
	"maps"
	"slices"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// Group is a set of processes that train one model together, each with its
// own Trainer and workers (mpi.World implements it). Every method is a
// collective: all ranks call it in the same order with the same sizes.
//
// With a Group of size S, a step is hierarchical, as Horovod's hierarchical
// all-reduce: the workers of each process sum their gradients (the usual
// owner-computes reduction), then one all-reduce sums the S process sums,
// and every rank applies the same optimizer step to its own copy of the
// weights. Each rank reads only its shard of every global batch (with the
// same W on every rank, global workers r·W … r·W+W−1's rows: rankShard); the loss
// gradient is divided by the global batch size, so S processes × W workers
// compute the step 1 process × S·W workers would.
type Group interface {
	Rank() int
	Size() int
	AllReduce32(buf []float32) error
	AllReduce64(buf []float64) error
	Broadcast32(buf []float32, root int) error
	Broadcast64(buf []float64, root int) error
}

func allReduce[T num.Float](g Group, buf []T) error {
	if num.Is32[T]() {
		return g.AllReduce32(num.As32(buf))
	}
	return g.AllReduce64(num.As64(buf))
}

func broadcast[T num.Float](g Group, buf []T, root int) error {
	if num.Is32[T]() {
		return g.Broadcast32(num.As32(buf), root)
	}
	return g.Broadcast64(num.As64(buf), root)
}

// distributed reports whether the trainer spans several processes.
func (t *Trainer[T]) distributed() bool { return t.cfg.Group != nil && t.cfg.Group.Size() > 1 }

// Broadcast makes every rank's weights, running statistics, optimizer
// state and step count
// rank 0's. Fit calls it when it starts and after every epoch (which also
// removes any last-bit drift between ranks); call it yourself before
// driving Session.Step by hand. It also checks whether every rank runs the
// same number of workers, which StepIndices's shards need to give each
// worker its global worker's rows (rankShard). It does nothing in a
// single process.
func (t *Trainer[T]) Broadcast() error {
	if !t.distributed() {
		return nil
	}
	g := t.cfg.Group
	if err := broadcast(g, t.m.Params, 0); err != nil {
		return err
	}
	if len(t.m.Buffers) > 0 {
		if err := broadcast(g, t.m.Buffers, 0); err != nil {
			return err
		}
	}
	var st optim.State[T]
	if t.opt != nil {
		st = t.opt.State()
	}
	for _, name := range slices.Sorted(maps.Keys(st.Buffers)) {
		if err := broadcast(g, st.Buffers[name], 0); err != nil {
			return err
		}
	}
	step := []float64{float64(st.Step)}
	if err := g.Broadcast64(step, 0); err != nil {
		return err
	}
	// Do all ranks run the same W? Σ W² · S = (Σ W)² holds iff they do
	// (Cauchy–Schwarz), and every rank reaches the same verdict.
	w := float64(t.cfg.Workers)
	ws := []float64{w, w * w}
	if err := g.AllReduce64(ws); err != nil {
		return err
	}
	t.shardW = 0
	if ws[1]*float64(g.Size()) == ws[0]*ws[0] {
		t.shardW = t.cfg.Workers
	}
	if g.Rank() != 0 && t.opt != nil {
		st.Step = int64(step[0])
		return t.opt.LoadState(st)
	}
	return nil
}

// rankShard is rank r's rows [lo, hi) of a global micro-batch of n rows
// across size ranks. With w > 0 workers on every rank it is the union of
// the shards of global workers r·w … r·w+w−1 of size·w (data.Shard), and
// data.Shard(hi−lo, w, k) then gives worker k exactly global worker
// r·w+k's rows: the extra rows of an uneven split go to the first global
// workers, so they are the first of rank r's. Each worker then sums its
// rows as that worker of one process would, which the bit-identical
// topologies of tree.go need. With w = 0 (ranks with different W) the
// ranks split the rows evenly among themselves.
func rankShard(n, size, r, w int) (lo, hi int) {
	if w <= 0 {
		return data.Shard(n, size, r)
	}
	lo, _ = data.Shard(n, size*w, r*w)
	_, hi = data.Shard(n, size*w, r*w+w-1)
	return lo, hi
}
