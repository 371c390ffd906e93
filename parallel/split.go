package parallel

import (
	"runtime"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
)

// The split weight gradient (issue #24). With few rows per worker, every
// worker writing a whole dense weight gradient dW = dZᵀ·X over its shard
// — 784×256 floats for the MNIST MLP's first layer, whatever its 16 rows
// — and the reduction then reading every worker's dW again cost more than
// the product itself. So in a step of one micro-batch with at most
// splitMaxRows rows per worker, the big dense layers' Backward only copies
// its X and dZ into buffers shared by the workers, each worker's rows at
// their place in the batch (model.Workspace.DeferWeightGrad; the first
// layer's X is the input rows, filled there in the first place), and in
// the reduction phase each worker computes the elements of those weight
// gradients that fall in its chunk (model.WeightGrad) straight into worker
// 0's buffer: no worker writes all of dW, each product runs over several
// shards' rows at once, and the reduction has nothing left to add there.
//
// The sum over the workers follows the reduction's tree (tree.go), with
// one change: a pair of two single workers — the tree's lowest level —
// is one product over both shards' rows (their rows are adjacent), not
// two products added. Other pairs add as treeSum does: a single worker's
// product onto the other part by the GEMM itself (beta = 1, one rounding;
// on ptrain's own kernels the bits of num.Axpy), a partial sum by
// num.Axpy. So with 2 workers a split layer's gradient is the one product
// over the batch that 1 worker computes, bit for bit on ptrain's kernels;
// other W differ from 1 worker by rounding, as before. And since each
// rank's workers, 2 or more, make whole lowest-level pairs, 2 ranks × W
// workers still sum as 1 × 2W (tree.go) — except W = 1, where the ranks
// add two products that 1 × 2 computes as one: those agree within
// rounding, not bit for bit. On the overlap path the ranks do not split
// (backward posts each layer's sum before the split could compute it).

// splitMaxRows is the most rows per worker at which a step splits the
// weight gradients (BenchmarkWeightGradSplit, bench/README.md).
var splitMaxRows = 32

// splitMinWeights is the smallest dense weight matrix (elements) that is
// split: for a small one the extra GEMM calls (up to three per worker's
// chunk and pair of shards) cost more than adding it in the reduction.
var splitMinWeights = 16384

// splitRange is a split layer: its index in the stack and its weight's
// range in Params.
type splitRange struct{ layer, lo, hi int }

// splitRanges returns the dense layers of m whose weight gradient the
// trainer splits, in Params order.
func splitRanges[T num.Float](m *model.Model[T]) []splitRange {
	var out []splitRange
	for i, l := range m.Layout.Layers {
		if l.Spec.Kind != model.KindDense || len(l.Params) == 0 {
			continue
		}
		if w := l.Params[0]; w.Role == model.RoleWeight && w.Size() >= splitMinWeights {
			out = append(out, splitRange{layer: i, lo: w.Offset, hi: w.Offset + w.Size()})
		}
	}
	return out
}

// useSplit says whether a step's gradient phase over n rows of this
// process, the step's only micro-batch, of global rows over all
// processes, defers the split layers. The rows per worker are counted
// over the global workers too, the ranks' as one: 2 ranks × W workers
// split exactly where 1 × 2W does (tree.go) only if they decide on the
// global batch — a rank's own share (rankShard) may have fewer rows per
// worker than the global batch's largest shard, and such a rank would
// split a pair that 1 × 2W adds as two products. This process's own
// count stays a condition for the batches of Step, which a caller may cut
// among the ranks otherwise.
func (t *Trainer[T]) useSplit(n, global int, only, overlap bool) bool {
	w, gw := t.cfg.Workers, t.cfg.Workers
	if t.distributed() {
		gw *= t.cfg.Group.Size()
	}
	return len(t.split) > 0 && only && !overlap && min(n, w) > 1 &&
		(n+w-1)/w <= t.splitMax && (global+gw-1)/gw <= t.splitMax
}

// reserveSplit sizes the split layers' shared buffers for micro-batches of
// up to rows rows per worker: no more than t.splitMax rows per worker,
// since useSplit splits no micro-batch with more. Coordinator only.
func (t *Trainer[T]) reserveSplit(rows int) {
	rows = min(rows, t.splitMax) * t.cfg.Workers
	if len(t.split) == 0 || len(t.splitX[0]) >= rows*t.m.Layout.Layers[t.split[0].layer].In[0] {
		return
	}
	for k, r := range t.split {
		info := &t.m.Layout.Layers[r.layer]
		t.splitX[k] = num.Alloc[T](rows * info.In[0])
		t.splitDZ[k] = num.Alloc[T](rows * info.Out[0])
		if k == 0 && info.Inputs[0] == -1 {
			t.splitZ = num.Alloc[T](rows * info.Out[0])
		}
	}
}

// splitPays says whether a column split whose widest part computes width
// columns of all n rows costs a worker no more products than its own
// shard's rows of all out columns: with 2 workers and 8 panels (the MNIST
// MLP's first layer) each computes 4 panels of every row, as many
// products as 16 of its rows, and in one GEMM of 32 rows, faster; with 16
// workers at batch 128 a worker's one panel of 128 rows would be twice its
// 8 rows of all 256 columns, and the workers without a panel would wait.
func splitPays(width, n, shard, out int) bool { return width*n <= shard*out }

// splitColumns arms the column split of the first split layer's forward
// (model.SharedPack.SplitColumns) for a split micro-batch of n rows, where
// it can run and pays: that layer reads the network's input (whose rows
// the workers fill into its shared X), the pack holds its panels for the
// running kernels, every worker has rows, splitPays holds, and every
// worker has a processor — with more workers than processors the split's
// two waits inside the phase hold each worker until all have been
// scheduled (MNIST MLP, 4 workers on 2 cores: 294 µs a step at batch 32
// against 266 without, 361 against 352 at 64). It reports whether it did;
// NoSplit undoes it after the phase. It first undoes any split still
// armed: a step whose phase panicked (Run's Abort released its workers)
// never reached that NoSplit, and its split would take the next step's
// first layer. Coordinator only, between phases.
func (t *Trainer[T]) splitColumns(n int, split bool) bool {
	if t.pack != nil {
		t.pack.NoSplit()
	}
	w := t.cfg.Workers
	if !split || t.splitZ == nil || n < w || w > runtime.GOMAXPROCS(0) {
		return false
	}
	l := t.split[0].layer
	if !t.pack.CanSplitColumns(t.m, l) || !splitPays(t.pack.SplitWidth(t.m, l, w), n, (n+w-1)/w, t.m.Layout.Layers[l].Out[0]) {
		return false
	}
	t.splitRows = append(t.splitRows[:0], 0)
	for k := range w {
		_, hi := data.Shard(n, w, k)
		t.splitRows = append(t.splitRows, hi)
	}
	info := &t.m.Layout.Layers[l]
	t.pack.SplitColumns(t.m, l, t.splitX[0][:n*info.In[0]], t.splitZ[:n*info.Out[0]], n, t.splitRows)
	return true
}

// deferSplit points each worker's split layers at its rows of the shared
// buffers for a micro-batch of n rows (split), or back at computing their
// weight gradients in Backward. Coordinator only, between phases.
func (t *Trainer[T]) deferSplit(n int, split bool) {
	for w, ws := range t.ws {
		lo, hi := data.Shard(n, t.cfg.Workers, w)
		for k, r := range t.split {
			if !split {
				ws.DeferWeightGrad(r.layer, nil, nil)
				continue
			}
			info := &t.m.Layout.Layers[r.layer]
			in, out := info.In[0], info.Out[0]
			ws.DeferWeightGrad(r.layer, t.splitX[k][lo*in:hi*in], t.splitDZ[k][lo*out:hi*out])
		}
	}
}

// splitInput is the buffer worker w fills its rows of a split micro-batch
// of n rows into: the first layer's shared X where that layer is split,
// so that its Backward need not copy it; nil otherwise.
func (t *Trainer[T]) splitInput(w, n int) []T {
	if len(t.split) == 0 || t.m.Layout.Layers[t.split[0].layer].Inputs[0] != -1 {
		return nil
	}
	lo, hi := data.Shard(n, t.cfg.Workers, w)
	return t.splitX[0][lo*t.inputs : hi*t.inputs]
}

// splitGrads is worker w's part of the split in phaseReduce of a
// micro-batch of n rows: the elements of the split layers' weight
// gradients in its chunk c, summed over the workers along order into
// worker 0's buffer.
func (t *Trainer[T]) splitGrads(order [][2]int, w, n int, c [2]int) {
	for k, r := range t.split {
		if a, b := max(r.lo, c[0]), min(r.hi, c[1]); a < b {
			t.splitSum(order, w, k, n, a, b)
		}
	}
}

// splitSum computes [lo, hi) of split layer k's weight gradient for a
// micro-batch of n rows, summed over the workers along order (see the
// top of this file). A worker that has not been part of a pair yet is a
// single one (a leaf of the tree).
func (t *Trainer[T]) splitSum(order [][2]int, w, k, n, lo, hi int) {
	info := &t.m.Layout.Layers[t.split[k].layer]
	in, out := info.In[0], info.Out[0]
	// the product over the rows of workers first…last into worker dst's buffer
	product := func(first, last, dst int, beta T) {
		a, _ := data.Shard(n, t.cfg.Workers, first)
		_, b := data.Shard(n, t.cfg.Workers, last)
		model.WeightGrad(info, t.splitX[k][a*in:], t.splitDZ[k][a*out:], b-a, lo, hi, beta, t.ws[dst].Grad)
	}
	if len(order) == 0 { // only worker 0 has rows
		product(0, 0, 0, 0)
		return
	}
	seen := t.splitSeen[w]
	clear(seen)
	for _, o := range order {
		dst, src := o[0], o[1]
		switch {
		case !seen[dst] && !seen[src]: // two single workers: one product
			product(dst, src, dst, 0)
		case !seen[src]: // a single worker onto a partial sum
			product(src, src, dst, 1)
		default:
			num.Axpy(1, t.ws[src].Grad[lo:hi], t.ws[dst].Grad[lo:hi])
		}
		seen[dst], seen[src] = true, true
	}
}

// treeSumExcept is treeSum over [lo, hi) without the split layers'
// weights when split is set (splitGrads has summed those).
func (t *Trainer[T]) treeSumExcept(order [][2]int, lo, hi int, split bool) {
	if split {
		for _, r := range t.split {
			if r.hi <= lo || r.lo >= hi {
				continue
			}
			if lo < r.lo {
				t.treeSum(order, lo, r.lo)
			}
			lo = r.hi
		}
	}
	if lo < hi {
		t.treeSum(order, lo, hi)
	}
}

// inSplit says whether [lo, hi) overlaps a split layer's weight.
func (t *Trainer[T]) inSplit(lo, hi int) bool {
	for _, r := range t.split {
		if r.lo < hi && lo < r.hi {
			return true
		}
	}
	return false
}
