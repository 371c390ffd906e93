package data

import (
	"fmt"
	"math/rand/v2"

	"github.com/ptrain/ptrain/model/num"
)

// Batcher walks a dataset in mini-batches, filling caller-owned buffers:
// after construction it allocates nothing. With shuffling, epoch e visits
// the samples in an order drawn from (seed, e) alone, so a resumed run
// sees the same batches as an uninterrupted one.
type Batcher[T num.Float] struct {
	ds      *Dataset
	batch   int
	outputs int
	shuffle bool
	seed    uint64
	perm    []int
	pos     int
}

// NewBatcher returns a batcher over ds with batches of batch samples, for a
// model with outputs outputs (see Dataset.TargetWidth).
func NewBatcher[T num.Float](ds *Dataset, batch, outputs int, shuffle bool, seed uint64) (*Batcher[T], error) {
	if batch <= 0 {
		return nil, fmt.Errorf("batch size %d: must be positive", batch)
	}
	if ds.N == 0 {
		return nil, fmt.Errorf("%s: no samples", ds.Name)
	}
	if err := ds.checkShape(); err != nil {
		return nil, err
	}
	if err := ds.TargetWidth(outputs); err != nil {
		return nil, err
	}
	b := &Batcher[T]{ds: ds, batch: batch, outputs: outputs, shuffle: shuffle, seed: seed, perm: make([]int, ds.N)}
	b.Epoch(0)
	return b, nil
}

// Batches is the number of batches in an epoch (the last may be short).
func (b *Batcher[T]) Batches() int { return (b.ds.N + b.batch - 1) / b.batch }

// Epoch rewinds to the start of epoch e and sets its order.
func (b *Batcher[T]) Epoch(e int) {
	for i := range b.perm {
		b.perm[i] = i
	}
	if b.shuffle {
		rng := rand.New(rand.NewPCG(b.seed, uint64(e)))
		rng.Shuffle(len(b.perm), func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
	}
	b.pos = 0
}

// Skip moves past the next k batches without filling them.
func (b *Batcher[T]) Skip(k int) {
	b.pos = min(b.ds.N, b.pos+k*b.batch)
}

// NextIndices returns the sample indices of the next batch and moves past
// it; nil at the end of the epoch. The slice is valid until Epoch is called
// again. A data-parallel trainer hands pieces of it to its workers, which
// fill their own rows with FillRow and FillTarget.
func (b *Batcher[T]) NextIndices() []int {
	n := min(b.batch, b.ds.N-b.pos)
	if n == 0 {
		return nil
	}
	idx := b.perm[b.pos : b.pos+n]
	b.pos += n
	return idx
}

// Outputs is the target width the batcher fills.
func (b *Batcher[T]) Outputs() int { return b.outputs }

// Next fills x ((batch, Features)) and y ((batch, outputs)) with the next
// batch and returns its size, or 0 at the end of the epoch.
func (b *Batcher[T]) Next(x, y []T) int {
	idx := b.NextIndices()
	f := b.ds.Features
	for r, i := range idx {
		FillRow(b.ds, i, x[r*f:(r+1)*f])
		FillTarget(b.ds, i, y[r*b.outputs:(r+1)*b.outputs])
	}
	return len(idx)
}

// Shard returns the rows [lo, hi) of worker i when n rows are split among
// w workers: contiguous pieces whose sizes differ by at most one, the
// larger ones first. Workers past n get empty pieces.
func Shard(n, w, i int) (lo, hi int) {
	q, r := n/w, n%w
	lo = i*q + min(i, r)
	hi = lo + q
	if i < r {
		hi++
	}
	return lo, hi
}
