package model

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/ptrain/ptrain/model/num"
)

// The column split (issue #24). When several workspaces each run a few
// rows of one batch, every one of them computing its rows of the first
// dense layer's z = x·Wᵀ + b reads all of W — packed once and shared
// (SharedPack), but half of it packed by another core, from weights that
// the other core's optimizer update has just written: with 16 rows per
// worker that traffic, and a product of 16 rows instead of 32, cost the
// MNIST MLP's 2-worker step at batch 32 a tenth of its time. Split by
// columns instead, each of the P workspaces sharing the pack computes
// about 1/P of the layer's output columns, over all the batch's rows: it
// packs only the panels of those columns (W's rows, which a trainer's
// update phase mostly gave the same worker) and its product has all the
// rows. Then each copies its own rows of the output, all columns, and
// goes on alone.
//
// Each element is computed as in the worker's own pass: a tile of the
// instruction set, summing over k in the same order, over all the columns'
// k blocks in the same order (num.GemmPackedBColumns), and the rows' bits
// do not depend on the tile nor on how many rows a product has
// (num.TestGemmRowsIndependentOfTile) — so a split pass gives every
// workspace the bits of its unsplit Forward.
//
// The layer must read the network's input: every workspace's input rows
// then lie, each part's at its place, in one buffer that the split reads
// (a data-parallel trainer fills its workers' rows there for the split
// weight gradient already, dense_split.go), and nothing before the layer
// has to wait for the other parts.

// columnSplit is an armed column split of a SharedPack: the rows of every
// part of the pass and where its output goes.
type columnSplit[T num.Float] struct {
	layer   int
	slot    *packSlot[T]
	x, z    []T   // the pass's input (n, In) and the layer's output (n, Out), all parts' rows
	n       int   // rows of the pass
	rows    []int // part k's rows: [rows[k], rows[k+1])
	arrived atomic.Int32
	done    atomic.Int32
}

// CanSplitColumns reports whether SplitColumns can split dense layer l of
// m: a dense layer reading the network's input whose weights this pack
// packs for the running kernels (num.PackedB.Splits; for any number of
// rows, since the split's product takes a tile of the packing's panels
// where Gemm's for those rows has others).
func (s *SharedPack[T]) CanSplitColumns(m *Model[T], l int) bool {
	if l < 0 || l >= len(s.slots) || s.slots[l] == nil {
		return false
	}
	if _, ok := m.stack[l].(*dense[T]); !ok || m.stack[l].Info().Inputs[0] != -1 {
		return false
	}
	return s.slots[l].pb.Splits()
}

// SplitWidth is the most output columns of dense layer l of m that one of
// parts workspaces computes in a split (whole panels of the packing, as
// evenly as they go): over all the pass's rows, where alone it would
// compute its own rows' Out columns. 0 where the pack packs nothing of
// layer l.
func (s *SharedPack[T]) SplitWidth(m *Model[T], l, parts int) int {
	if l < 0 || l >= len(s.slots) || s.slots[l] == nil || parts <= 0 {
		return 0
	}
	width := 0
	for k := range parts {
		j0, j1 := partColumns(s.slots[l].pb.Panel(), m.stack[l].Info().Out[0], k, parts)
		width = max(width, j1-j0)
	}
	return width
}

// SplitColumns makes the next training Forwards of the workspaces sharing
// the pack compute dense layer l together, by columns (see the top of
// this file): x holds the pass's n input rows (n, In), z receives the
// layer's output over all of them (n, Out). rows has one more element
// than there are workspaces taking part: the workspace whose Part is k
// runs rows [rows[k], rows[k+1]), and its Forward's x must be those rows
// of x itself, at least one. Every one of them must run its Forward, or
// the others wait for it (Abort releases them). CanSplitColumns(m, l)
// must hold. Call it between phases, while no workspace sharing the pack
// runs Forward; NoSplit undoes it.
func (s *SharedPack[T]) SplitColumns(m *Model[T], l int, x, z []T, n int, rows []int) {
	if !s.CanSplitColumns(m, l) {
		panic(fmt.Sprintf("model: SplitColumns of layer %d, which cannot split", l))
	}
	info := m.stack[l].Info()
	if len(x) < n*info.In[0] || len(z) < n*info.Out[0] || len(rows) < 2 || rows[0] != 0 || rows[len(rows)-1] != n {
		panic(fmt.Sprintf("model: SplitColumns of %d rows: %d inputs, %d outputs and parts %v for layer %d", n, len(x), len(z), rows, l))
	}
	for k := 1; k < len(rows); k++ {
		if rows[k] <= rows[k-1] {
			panic(fmt.Sprintf("model: SplitColumns: part %d of %v has no rows", k-1, rows))
		}
	}
	c := s.cols
	if c == nil {
		c = &columnSplit[T]{}
		s.cols = c
	}
	c.layer, c.slot, c.x, c.z, c.n = l, s.slots[l], x[:n*info.In[0]], z[:n*info.Out[0]], n
	c.rows = append(c.rows[:0], rows...)
	c.arrived.Store(0)
	c.done.Store(0)
	s.split = true
}

// NoSplit makes the following Forwards compute every layer alone again.
// Between phases only.
func (s *SharedPack[T]) NoSplit() { s.split = false }

// splitAt returns the armed split if it splits layer l of a training pass.
func (s *SharedPack[T]) splitAt(l int, train bool) *columnSplit[T] {
	if s == nil || !s.split || !train || s.cols.layer != l {
		return nil
	}
	return s.cols
}

// columns is part k's columns of the layer's n (partColumns).
func (c *columnSplit[T]) columns(k, n int) (j0, j1 int) {
	return partColumns(c.slot.pb.Panel(), n, k, len(c.rows)-1)
}

// partColumns is part k of parts' columns of n: whole panels of pn
// columns (the last one may be narrower), as evenly as they go; a part may
// have none.
func partColumns(pn, n, k, parts int) (j0, j1 int) {
	panels := (n + pn - 1) / pn
	return min(panels*k/parts*pn, n), min(panels*(k+1)/parts*pn, n)
}

// forward is dense layer d's Forward for part k of the split, whose rows
// are x, into z: it packs its columns of W, waits until every part has
// arrived (their rows are in c.x), computes its columns of the output
// over all rows, waits until every part has, and copies its own rows of
// the output.
//
// Who writes what: part k writes c.z's columns j0..j1 of every row and
// the packing's panels of those columns, and reads c.x whole; the
// arrival and completion counts order those writes before every read of
// them by another part (c.z's rows after the second wait). The previous
// pass's readers of c.z are done before this pass starts (the trainer's
// phase hand-off), so the bias copy may come before the first wait.
func (c *columnSplit[T]) forward(d *dense[T], k int, x, z []T, abort *atomic.Bool) {
	lo, hi := c.rows[k], c.rows[k+1]
	if len(x) != (hi-lo)*d.In || &x[0] != &c.x[lo*d.In] {
		panic(fmt.Sprintf("model: a column split's part %d ran Forward on rows other than its rows [%d, %d) of the split's input", k, lo, hi))
	}
	parts := int32(len(c.rows) - 1)
	wait := func(v *atomic.Int32) {
		v.Add(1)
		for v.Load() < parts && !abort.Load() {
			runtime.Gosched()
		}
	}
	// The bias and the packing of this part's columns need no other part:
	// they run before the wait for the others' rows.
	j0, j1 := c.columns(k, d.Out)
	if j0 < j1 {
		for i := range c.n {
			copy(c.z[i*d.Out+j0:i*d.Out+j1], d.B[j0:j1])
		}
		c.slot.pb.PackColumns(j0, j1, d.W.Data, d.In)
	}
	wait(&c.arrived)
	if j0 < j1 {
		num.GemmPackedBColumns(c.n, 1, c.x, d.In, c.slot.pb, j0, j1, 1, c.z, d.Out)
	}
	wait(&c.done)
	copy(z, c.z[lo*d.Out:hi*d.Out])
}
