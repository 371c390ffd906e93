package parallel

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// Batch is one micro-batch of caller-filled rows: x is (N, inputs), y is
// (N, outputs).
type Batch[T num.Float] struct {
	X, Y []T
	N    int
}

// StepResult is what one optimizer step reports.
type StepResult struct {
	Step     int64   // optimizer steps taken so far (this one included)
	Loss     float64 // mean loss over the step's samples
	Correct  int64   // samples whose prediction matched (classification)
	Samples  int
	LR       float64
	GradNorm float64 // global L2 norm before clipping (what PyTorch's clip_grad_norm_ returns)

	// Layers are the per-layer figures of the step (nil with
	// Config.NoLayerStats): the trainer's buffer, valid until the next step.
	Layers []LayerStats
}

// Step takes one optimizer step on caller-filled micro-batches: their
// gradients are accumulated (as one batch of all their rows) before the
// update. With a Group, each batch holds this rank's rows of a global
// micro-batch, the ranks' rows in rank order (for the bit-identical
// topologies of tree.go, rank r's rows are global workers r·W … r·W+W−1's
// shards, data.Shard over S·W workers, as StepIndices cuts them). The
// batches may have any size; the trainer grows its buffers for a larger
// one than it has seen (see Trainer).
func (s *Session[T]) Step(batches ...Batch[T]) (StepResult, error) {
	if s.t.opt == nil { // before globalCounts: no rank all-reduces for a step that cannot be taken
		return StepResult{}, ErrNoOptimizer
	}
	counts, err := s.globalCounts(batches)
	if err != nil {
		return StepResult{}, err
	}
	total := 0
	for i, c := range counts {
		if batches[i].N < 0 {
			return StepResult{}, fmt.Errorf("micro-batch %d has %d rows", i, batches[i].N)
		}
		total += int(c[1])
	}
	base := 0 // global row of micro-batch i's first row
	return s.step(len(batches), total, func(i int) (n, rowBase int) {
		b := batches[i]
		s.task.x, s.task.y, s.task.ds, s.task.idx, s.task.aug = b.X, b.Y, nil, nil, nil
		rowBase = base + int(counts[i][0])
		base += int(counts[i][1])
		return b.N, rowBase
	})
}

// step runs the micro-batches of one optimizer step and finishes it.
// prepare sets up micro-batch i's task and returns this process's rows and
// the global row of the first (dropout masks are keyed by it).
func (s *Session[T]) step(micro, total int, prepare func(i int) (n, rowBase int)) (StepResult, error) {
	var sr StepResult
	if s.t.opt == nil {
		return sr, ErrNoOptimizer
	}
	for i := range micro {
		n, rowBase := prepare(i)
		if err := s.grad(n, i == 0, i == micro-1, float64(total), rowBase, &sr); err != nil {
			return sr, err
		}
	}
	err := s.finish(total, &sr)
	return sr, err
}

// globalCounts returns, for each micro-batch, this rank's first row in the
// global micro-batch and the global micro-batch's size. Across processes
// that takes one small all-reduce of every rank's row counts.
func (s *Session[T]) globalCounts(batches []Batch[T]) ([][2]float64, error) {
	if cap(s.counts) < len(batches) {
		s.counts = make([][2]float64, len(batches))
	}
	out := s.counts[:len(batches)]
	clear(out)
	if !s.t.distributed() {
		for i, b := range batches {
			out[i][1] = float64(b.N)
		}
		return out, nil
	}
	g := s.t.cfg.Group
	n := g.Size()
	if cap(s.ranks) < len(batches)*n {
		s.ranks = make([]float64, len(batches)*n)
	}
	all := s.ranks[:len(batches)*n]
	clear(all)
	for i, b := range batches {
		all[i*n+g.Rank()] = float64(b.N)
	}
	if err := g.AllReduce64(all); err != nil {
		return nil, err
	}
	for i := range batches {
		for r := 0; r < n; r++ {
			if r < g.Rank() {
				out[i][0] += all[i*n+r]
			}
			out[i][1] += all[i*n+r]
		}
	}
	return out, nil
}

// StepIndices is Step for samples that stay in a dataset: it takes one
// optimizer step on the samples of ds whose indices micro lists, each
// slice one micro-batch (gradients accumulated over them), and each
// worker copies its own rows out of ds — where Step's caller fills the
// rows itself. Fit steps this way. With a Group, micro holds the global
// micro-batches (the same on every rank) and each rank trains on its
// contiguous share of each.
func (s *Session[T]) StepIndices(ds *data.Dataset, micro ...[]int) (StepResult, error) {
	total := 0
	for _, idx := range micro {
		total += len(idx)
	}
	base := 0 // global row of micro-batch i's first row
	return s.step(len(micro), total, func(i int) (n, rowBase int) {
		idx := micro[i]
		lo, hi := s.share(len(idx))
		s.task.x, s.task.y, s.task.ds, s.task.idx = nil, nil, ds, idx[lo:hi]
		s.task.aug, s.task.epoch = s.aug, s.epoch
		rowBase = base + lo
		base += len(idx)
		return hi - lo, rowBase
	})
}

// share is this rank's rows [lo, hi) of a global micro-batch of n rows:
// all of them without a Group.
func (s *Session[T]) share(n int) (lo, hi int) {
	if s.t.distributed() {
		return rankShard(n, s.t.cfg.Group.Size(), s.t.cfg.Group.Rank(), s.t.shardW)
	}
	return 0, n
}

// Augment makes the following StepIndices calls fill their rows
// transformed by a (nil: as they are), with a's draws for epoch: each
// sample's by its index in the dataset, so the rows do not depend on the
// workers or ranks that fill them. Evaluation never augments. Fit calls
// it at the start of every epoch with FitConfig.Augment.
func (s *Session[T]) Augment(a *data.Augment, epoch int) {
	s.aug, s.epoch = a, epoch
}

// grad runs the gradient phase for one micro-batch of n rows of this process.
func (s *Session[T]) grad(n int, zero, last bool, denom float64, rowBase int, sr *StepResult) error {
	t := s.t
	tk := &s.task
	t.reserveShare(n) // between phases: no worker holds the buffers
	tk.n, tk.zero, tk.denom, tk.rowBase, tk.step = n, zero, denom, rowBase, t.opt.Steps()+1
	if zero {
		tk.active = 0
	}
	tk.active = max(tk.active, min(n, t.cfg.Workers))
	// Overlap on the final micro-batch only: before it, gradients are
	// still accumulating.
	// Not with batch statistics either: their all-reduces during forward
	// and backward must come in the same order on every rank, which the
	// layer posts of a rank without rows would not.
	s.overlap = last && t.distributed() && t.cfg.Overlap && len(t.buckets) > 1 && t.bsync == nil
	tk.split = t.useSplit(n, int(denom), zero && last, s.overlap) // one micro-batch: denom is its global size
	t.deferSplit(n, tk.split)
	if s.overlap {
		s.posted.Store(0)
		for l := range s.layerLeft {
			s.layerLeft[l].Store(int32(min(n, t.cfg.Workers)))
		}
	}
	cols := t.splitColumns(n, tk.split)
	start := time.Now()
	err := s.dispatch(phaseGrad)
	if cols {
		t.pack.NoSplit()
	}
	if err != nil {
		return err
	}
	if t.bsync != nil {
		if err := t.bsync.takeErr(); err != nil {
			return err
		}
	}
	wall := time.Since(start)
	var busy, d, f, b time.Duration
	for w := range t.res {
		r := &t.res[w]
		sr.Loss += r.loss // fixed order: worker 0, 1, ...
		sr.Correct += r.correct
		d, f, b = d+r.data, f+r.fwd, b+r.bwd
	}
	nw := time.Duration(t.cfg.Workers)
	t.stats.Data += d / nw
	t.stats.Forward += f / nw
	t.stats.Backward += b / nw
	busy = (d + f + b) / nw
	t.stats.Wait += max(wall-busy, 0)
	return nil
}

// finish decides, reduces, checks and applies the step. Across processes
// every decision is taken on all-reduced figures, so that all ranks take
// it together: the step's loss and correct count and whether any rank was
// asked to stop are summed first (one small all-reduce), then the
// gradients, then the sum is checked for non-finite values.
func (s *Session[T]) finish(total int, sr *StepResult) error {
	t := s.t
	tk := &s.task
	if total == 0 {
		return fmt.Errorf("a step needs at least one sample")
	}
	act := t.activity() // the workers' activation counts, summed with the loss across ranks
	if t.distributed() {
		// In the order every rank posts them: the finished layers (if
		// backward did not post them all, because this rank had no rows),
		// the step's loss, correct count and stop flag, and after the
		// in-process reduction the rest of the gradient.
		c0 := time.Now()
		buckets := 0
		if s.overlap {
			buckets = len(t.buckets) - 1
			for b := len(t.buckets) - 1 - int(s.posted.Load()); b >= 1; b-- {
				s.postLayer(t.buckets[b])
			}
		}
		s.stats[0], s.stats[1], s.stats[2] = sr.Loss, float64(sr.Correct), 0
		if s.stop.Err() != nil {
			s.stats[2] = 1
		}
		copy(s.stats[3:], act)
		s.comm <- commReq[T]{f64: s.stats}
		var err error
		for range buckets + 1 {
			if e := <-s.commDone; e != nil && err == nil {
				err = e
			}
		}
		t.stats.Comm += time.Since(c0)
		if err != nil {
			return err
		}
		sr.Loss, sr.Correct = s.stats[0], int64(s.stats[1])
		copy(act, s.stats[3:])
		if s.stats[2] > 0 {
			if err := s.stop.Err(); err != nil {
				return err
			}
			return context.Canceled // another rank was interrupted
		}
	}
	if math.IsNaN(sr.Loss) || math.IsInf(sr.Loss, 0) {
		return &NonFiniteError{Step: tk.step, Param: -1, Value: sr.Loss}
	}
	// The last point at which an interrupt drops this step: from here on
	// the step completes (see phase.abortable).
	if err := s.ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	tk.firstOnly = s.overlap
	// The L1 term joins the gradient once, after the last sum: in the
	// in-process reduction, or across processes in the check after it.
	tk.l1 = t.cfg.L1 > 0 && !t.distributed()
	tk.scan = !t.distributed()
	if err := s.dispatch(phaseReduce); err != nil {
		return err
	}
	if t.distributed() {
		c0 := time.Now()
		rest := t.ws[0].Grad
		if s.overlap {
			rest = rest[:t.firstEnd()]
		}
		s.comm <- commReq[T]{grad: rest}
		if err := <-s.commDone; err != nil {
			return err
		}
		t.stats.Comm += time.Since(c0)
		tk.l1 = t.cfg.L1 > 0
		if err := s.dispatch(phaseCheck); err != nil {
			return err
		}
	}
	if err := t.nonFinite(tk.step); err != nil {
		return err
	}
	var sumSq float64
	for w := range t.res {
		sumSq += t.res[w].sumSq
	}
	t1 := time.Now()
	t.stats.AllReduce += t1.Sub(start)
	tk.coef = 1
	sr.GradNorm = math.Sqrt(sumSq)
	if t.cfg.ClipNorm > 0 {
		tk.coef = T(optim.ClipCoef(sr.GradNorm, t.cfg.ClipNorm))
	}
	t.opt.Begin()
	sr.LR = t.opt.LR()
	t.resetUpdate()
	_ = s.dispatch(phaseApply)         // cannot fail: apply is not abortable
	copy(t.m.Buffers, t.ws[0].Running) // the running statistics move with the step
	sr.Layers = t.layerFigures()
	t.stats.Optimizer += time.Since(t1)
	t.stats.Steps++
	t.stats.Samples += int64(total)
	sr.Step, sr.Samples = t.opt.Steps(), total
	sr.Loss /= float64(total)
	return nil
}

// nonFinite reports the first non-finite gradient element that the
// workers' check found, in worker order, as step's error.
func (t *Trainer[T]) nonFinite(step int64) error {
	for w := range t.res {
		if r := &t.res[w]; r.nonFinite {
			return &NonFiniteError{Step: step, Param: r.badIndex, Name: t.m.ParamName(r.badIndex), Value: r.badValue}
		}
	}
	return nil
}

// layerFinished is every worker's AfterLayer hook. On the final
// micro-batch of a step across processes, the last worker to finish layer
// l (a layer with parameters, not the first such) posts it: layers
// complete in reverse order on every worker, so the later ones have always
// been posted before, on every rank alike.
func (s *Session[T]) layerFinished(l int) {
	if !s.overlap || len(s.t.m.Layout.Layers[l].Params) == 0 || l == s.t.buckets[0] || s.layerLeft[l].Add(-1) != 0 {
		return
	}
	s.postLayer(l)
}

// postLayer sums layer l's gradient over the workers, along the fixed
// tree of the reduction phase (tree.go), into worker 0's buffer and hands
// it to the comm goroutine.
func (s *Session[T]) postLayer(l int) {
	t := s.t
	lo, hi := t.m.Layout.Layers[l].ParamRange()
	g := t.ws[0].Grad[lo:hi]
	t.treeSum(t.order[s.task.active], lo, hi)
	s.posted.Add(1)
	s.comm <- commReq[T]{grad: g}
}

// allReduce runs the reduction phase alone: worker 0's gradient buffer
// becomes the sum of every worker's, each worker summing its own chunk
// along the fixed tree of tree.go (in place: the other buffers then hold
// partial sums). It reports a non-finite element as a *NonFiniteError.
// Step and StepIndices do this themselves; allReduce is for measuring the
// reduction (bench, through internal/trainhook) and, with grads, for
// tests that inspect what a batch's gradient is. Call it between steps,
// from the goroutine that called Run.
func (s *Session[T]) allReduce() error {
	s.task.active, s.task.firstOnly, s.task.l1, s.task.scan, s.task.split = s.t.cfg.Workers, false, false, true, false
	if err := s.dispatch(phaseReduce); err != nil {
		return err
	}
	return s.t.nonFinite(s.t.opt.Steps() + 1)
}

// grads returns the gradient buffer of each worker (worker 0's holds the
// sum after allReduce, the others partial sums of the tree). The buffers
// belong to the trainer: write them only
// between steps, from the goroutine that called Run.
func (s *Session[T]) grads() [][]T {
	g := make([][]T, len(s.t.ws))
	for i, ws := range s.t.ws {
		g[i] = ws.Grad
	}
	return g
}

// Step takes one optimizer step on one batch of caller-filled rows (a
// convenience that starts and stops the workers; use Run for many steps).
func (t *Trainer[T]) Step(ctx context.Context, x, y []T, n int) (StepResult, error) {
	var sr StepResult
	err := t.Run(ctx, func(s *Session[T]) error {
		var err error
		sr, err = s.Step(Batch[T]{X: x, Y: y, N: n})
		return err
	})
	return sr, err
}
