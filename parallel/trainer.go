package parallel

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// Config configures a Trainer.
type Config struct {
	Workers   int        // worker goroutines; 0 means runtime.GOMAXPROCS(0)
	BatchSize int        // the largest batch (micro-batch, with accumulation) a step is given
	Loss      model.Loss // the objective
	Seed      uint64     // dropout randomness (data order is the batcher's)
	ClipNorm  float64    // clip the gradient to this global L2 norm; 0 for none
	ClipValue float64    // clamp each gradient element to ±ClipValue; 0 for none
	// L1 adds L1·Σ|w| over the weights (not the biases) to the loss, as
	// Keras's kernel_regularizer: L1·sign(w) joins each step's summed
	// gradient before clipping. Reported losses stay the data loss.
	L1 float64
	// Schedule sets the learning rate of each step from the optimizer's base
	// rate, with StepsPerEpoch converting steps to epochs (Fit sets it).
	Schedule      optim.Schedule
	StepsPerEpoch int
	// Group, if it has more than one rank, spans processes (see Group);
	// nil trains in this process alone.
	Group Group
	// Overlap, with a Group, starts the cross-process all-reduce of each
	// layer's gradient as soon as backward has finished it (last layer
	// first), while the first layers are still in backward, as PyTorch DDP
	// does. Results are identical either way. Off by default: on one
	// machine, where MPI moves data with the CPU, it was measured 17–27%
	// slower (bench/README.md); it is meant for networks whose transfers
	// leave the cores free.
	Overlap bool
}

// Stats is the time spent in each phase, summed over steps. Forward,
// Backward and Data are means over workers; Wait is the time the phase-1
// barrier added on top of that mean (imbalance and hand-off).
type Stats struct {
	Steps     int64
	Samples   int64
	Data      time.Duration
	Forward   time.Duration
	Backward  time.Duration
	Wait      time.Duration
	AllReduce time.Duration
	Optimizer time.Duration
	Comm      time.Duration // cross-process all-reduce (with a Group)
	Eval      time.Duration
}

// NonFiniteError reports a NaN or infinite loss or gradient. Training stops
// before the optimizer touches the weights.
type NonFiniteError struct {
	Step  int64  // the optimizer step (1-based) that would have been taken
	Param int    // index in the flat parameter vector; -1 for the loss
	Name  string // e.g. dense.1.weight[3, 7]
	Value float64
}

func (e *NonFiniteError) Error() string {
	if e.Param < 0 {
		return fmt.Sprintf("step %d: the loss is %v", e.Step, e.Value)
	}
	return fmt.Sprintf("step %d: the gradient of parameter %d (%s) is %v", e.Step, e.Param, e.Name, e.Value)
}

// Trainer trains one model with one optimizer across Workers goroutines.
// A Trainer is not safe for concurrent use: one Run (or Step, Fit,
// Evaluate) at a time.
type Trainer[T num.Float] struct {
	cfg      Config
	m        *model.Model[T]
	opt      *optim.Optimizer[T]
	ws       []*model.Workspace[T]
	xbuf     [][]T     // per worker: input rows filled from a dataset
	ybuf     [][]T     // per worker: target rows
	conf     [][]int64 // per worker: confusion counts of an evaluation
	chunk    [][2]int  // per worker: its chunk of the parameter vector
	chunk0   [][2]int  // per worker: its chunk of layer 0's parameters
	res      []result  // per worker: the last phase's report
	stats    Stats
	progress Progress
}

// New returns a trainer. The optimizer must have been made for the model's
// parameter count.
func New[T num.Float](m *model.Model[T], opt *optim.Optimizer[T], cfg Config) (*Trainer[T], error) {
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Workers < 1 || cfg.Workers > 4096 {
		return nil, fmt.Errorf("workers %d: must be in [1, 4096]", cfg.Workers)
	}
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("batch size %d: must be positive", cfg.BatchSize)
	}
	if err := model.CheckLoss(cfg.Loss, m.Spec); err != nil {
		return nil, err
	}
	if !(cfg.ClipNorm >= 0) || !(cfg.ClipValue >= 0) {
		return nil, fmt.Errorf("clipping thresholds must be ≥ 0 (norm %g, value %g)", cfg.ClipNorm, cfg.ClipValue)
	}
	if !(cfg.L1 >= 0) || math.IsInf(cfg.L1, 0) {
		return nil, fmt.Errorf("L1 coefficient %g: must be a finite number ≥ 0", cfg.L1)
	}
	t := &Trainer[T]{cfg: cfg, m: m, opt: opt}
	w := cfg.Workers
	rows := (cfg.BatchSize + w - 1) / w
	in, out := m.Spec.Inputs, m.Spec.Outputs()
	k := max(out, 2)
	p := len(m.Params)
	for i := 0; i < w; i++ {
		t.ws = append(t.ws, model.NewWorkspace(m, rows))
		t.xbuf = append(t.xbuf, num.Alloc[T](rows*in))
		t.ybuf = append(t.ybuf, num.Alloc[T](rows*out))
		t.conf = append(t.conf, make([]int64, k*k))
		t.chunk = append(t.chunk, paramChunk(p, w, i))
		t.chunk0 = append(t.chunk0, paramChunk(layerEnd(m, 0), w, i))
	}
	t.res = make([]result, w)
	return t, nil
}

// layerEnd is the end of layer l's weights and bias in Params.
func layerEnd[T num.Float](m *model.Model[T], l int) int {
	d := &m.Layers[l]
	return d.Offset + d.Out*d.In + d.Out
}

// paramChunk is worker i's share of p parameters: contiguous, with
// boundaries on multiples of 16 elements so that no two workers write the
// same cache line.
func paramChunk(p, w, i int) [2]int {
	align := func(x int) int { return x &^ 15 }
	lo, hi := align(p*i/w), align(p*(i+1)/w)
	if i == w-1 {
		hi = p
	}
	return [2]int{lo, hi}
}

// Workers is the number of worker goroutines.
func (t *Trainer[T]) Workers() int { return t.cfg.Workers }

// Model returns the model being trained.
func (t *Trainer[T]) Model() *model.Model[T] { return t.m }

// Optimizer returns the optimizer.
func (t *Trainer[T]) Optimizer() *optim.Optimizer[T] { return t.opt }

// Stats returns the per-phase timings so far.
func (t *Trainer[T]) Stats() Stats { return t.stats }

// phase is what a worker is told to do.
type phase int

const (
	phaseGrad   phase = iota // forward + backward of the worker's shard
	phaseReduce              // sum the worker's chunk over all gradients, check it
	phaseCheck               // check the worker's chunk (after a cross-process sum)
	phaseApply               // clip and update the worker's chunk
	phaseEval                // forward of the worker's shard, loss and confusion
	phaseStop                // leave the worker loop
)

// task is the coordinator's instruction for one phase. The coordinator
// writes it before bumping the phase generation (an atomic store, which
// publishes it); workers read it after seeing the new generation.
type task[T num.Float] struct {
	phase   phase
	n       int // rows in the (micro-)batch
	x, y    []T // caller-filled rows, or nil to fill from ds
	ds      *data.Dataset
	idx     []int   // ds sample of each row
	zero    bool    // first micro-batch of a step: zero the gradient first
	denom   float64 // samples in the whole step
	rowBase int     // global row of this micro-batch's first row (dropout)
	step    int64   // optimizer step being computed
	coef    T       // gradient scale from norm clipping
	active  int     // workers with rows in some micro-batch of this step
	layer0  bool    // phaseReduce covers layer 0 only: the others were reduced in backward
	l1      bool    // add the L1 term's gradient to the reduced chunk (Config.L1)
}

// result is a worker's report for one phase.
type result struct {
	loss      float64
	correct   int64
	data      time.Duration
	fwd, bwd  time.Duration
	sumSq     float64
	badIndex  int // first non-finite gradient element in the chunk, or -1
	badValue  float64
	nonFinite bool
}

// Session is a running set of worker goroutines; see Trainer.Run.
type Session[T num.Float] struct {
	t *Trainer[T]
	// ctx ends phases early. Across processes every rank must make the same
	// collective calls, so there ctx never ends and stop — the caller's
	// context — is consulted once per step, collectively (see finish).
	ctx     context.Context
	stop    context.Context
	workers []*workerState // workers 1..W−1
	gen     atomic.Uint64  // bumped once per dispatched phase
	phase   atomic.Int32   // the phase of the current generation
	done    chan int
	task    task[T]
	counts  [][2]float64 // Step's per-micro-batch row offsets and sizes, reused
	ranks   []float64    // Step's row count of every rank and micro-batch (with a Group), reused
	spin    int          // spinBudget, or 0 when workers outnumber processors

	// Across processes, every collective of a step goes through comm, one
	// goroutine that calls the Group in the order requests arrive — the
	// same order on every rank. With overlap, backward posts finished
	// layers (last first) while it goes on with the first layers.
	comm      chan commReq[T]
	commDone  chan error
	overlap   bool           // this step's final micro-batch posts finished layers
	layerLeft []atomic.Int32 // per layer: workers yet to finish it in that micro-batch
	posted    atomic.Int32   // layers posted this step
	stats     []float64      // loss, correct, stop: the step's small all-reduce (its own allocation: C reads it)
}

// commReq is one collective for the comm goroutine: a gradient slice or a
// float64 vector to sum across processes.
type commReq[T num.Float] struct {
	grad []T
	f64  []float64
}

// Run starts the workers, calls f with a session that drives them, then
// stops them and waits until every worker goroutine has returned. The
// goroutine that calls Run is the coordinator and also does worker 0's
// share of every phase, so W workers cost W−1 goroutines and hand-offs.
func (t *Trainer[T]) Run(ctx context.Context, f func(*Session[T]) error) error {
	s := &Session[T]{t: t, ctx: ctx, stop: ctx, done: make(chan int, t.cfg.Workers)}
	if t.distributed() {
		s.ctx = context.Background()
	}
	var commWG sync.WaitGroup
	if t.distributed() {
		s.comm = make(chan commReq[T], len(t.m.Layers)+2)
		s.commDone = make(chan error, len(t.m.Layers)+2)
		s.layerLeft = make([]atomic.Int32, len(t.m.Layers))
		s.stats = make([]float64, 3)
		commWG.Add(1)
		go func() {
			defer commWG.Done()
			for r := range s.comm {
				if r.f64 != nil {
					s.commDone <- t.cfg.Group.AllReduce64(r.f64)
				} else {
					s.commDone <- allReduce(t.cfg.Group, r.grad)
				}
			}
		}()
		for _, ws := range t.ws {
			ws.AfterLayer = s.layerFinished
		}
		defer func() {
			for _, ws := range t.ws {
				ws.AfterLayer = nil
			}
			close(s.comm)
			commWG.Wait()
		}()
	}
	if t.cfg.Workers <= runtime.GOMAXPROCS(0) {
		// Yielding only pays while every worker has a processor to itself;
		// with more workers than processors it takes turns from the ones
		// that have work (measured: 50-70% of the step lost waiting).
		s.spin = spinBudget
	}
	var wg sync.WaitGroup
	for w := 1; w < t.cfg.Workers; w++ {
		wk := &workerState{wake: make(chan struct{}, 1)}
		s.workers = append(s.workers, wk)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(w, wk)
		}()
	}
	defer func() { // also when f panics: no worker outlives Run
		s.phase.Store(int32(phaseStop))
		s.gen.Add(1)
		s.wakeAll()
		wg.Wait()
	}()
	return f(s)
}

// workerState is how the coordinator reaches a parked worker.
type workerState struct {
	sleeping atomic.Bool   // set by the worker just before it blocks on wake
	wake     chan struct{} // one token per wake-up; buffered so sends never block
}

// spinBudget is how many times a waiting goroutine yields before it parks.
// A park and wake-up through the scheduler cost 100–500 µs per phase here
// when the other goroutines sit in long BLAS calls (a woken goroutine can
// wait in the run queue of a P whose thread is busy in cgo); yielding keeps
// the hand-off within microseconds, and runtime.Gosched lets any goroutine
// with real work run first when there are more workers than cores.
const spinBudget = 20000

// worker runs phases until told to stop. It waits for the next phase by
// watching the generation counter, yielding for spinBudget rounds before it
// parks on its wake channel. Its report goes on done, which has room for
// every worker, so it never blocks there.
func (s *Session[T]) worker(w int, wk *workerState) {
	var last uint64 // the generation when Run created us, not when we started

	for {
		for i := 0; i < s.spin && s.gen.Load() == last; i++ {
			runtime.Gosched()
		}
		// A token means "look again", not "go": the coordinator's wakeAll
		// for the previous generation can still be walking the workers
		// after this one has finished that phase and gone back to sleep,
		// and then the token it gets is stale.
		for s.gen.Load() == last {
			wk.sleeping.Store(true)
			if s.gen.Load() != last && wk.sleeping.CompareAndSwap(true, false) {
				break // the coordinator moved on before it saw us asleep: no token comes
			}
			<-wk.wake // Run always ends with phaseStop, so a real token comes
		}
		last = s.gen.Load()
		p := phase(s.phase.Load())
		if p == phaseStop {
			return
		}
		s.t.runPhase(w, p, &s.task)
		s.done <- w
	}
}

// wakeAll sends a token to every worker that has gone to sleep.
func (s *Session[T]) wakeAll() {
	for _, wk := range s.workers {
		if wk.sleeping.CompareAndSwap(true, false) {
			wk.wake <- struct{}{}
		}
	}
}

// dispatch runs phase p on every worker — worker 0 on the calling
// goroutine — and waits for all of them. It returns ctx.Err() if the
// context ends first; the workers then finish their phase on their own.
// Phase apply is waited out regardless, so that an optimizer step is never
// half applied.
func (s *Session[T]) dispatch(p phase) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.task.phase = p
	s.phase.Store(int32(p))
	s.gen.Add(1) // publishes task and phase to the workers
	s.wakeAll()
	s.t.runPhase(0, p, &s.task)
	n := len(s.workers)
	for i := 0; i < s.spin && len(s.done) < n; i++ {
		runtime.Gosched()
	}
	for i := 0; i < n; i++ {
		if p == phaseApply {
			<-s.done
			continue
		}
		select {
		case <-s.done:
		case <-s.ctx.Done():
			for ; i < n; i++ { // let the stragglers finish before returning
				<-s.done
			}
			return s.ctx.Err()
		}
	}
	return nil
}

// runPhase is the work of worker w in phase p.
func (t *Trainer[T]) runPhase(w int, p phase, tk *task[T]) {
	r := &t.res[w]
	*r = result{badIndex: -1}

	switch p {
	case phaseGrad, phaseEval:
		ws := t.ws[w]
		if p == phaseGrad && tk.zero {
			ws.ZeroGrad()
		}
		lo, hi := data.Shard(tk.n, t.cfg.Workers, w)
		if hi == lo {
			return
		}
		in, out := t.m.Spec.Inputs, t.m.Spec.Outputs()
		// Rows always go through the worker's own aligned buffers (a copy
		// of caller-filled rows costs microseconds): the GEMMs then see the
		// same alignment in every run, which bit-for-bit repeatability
		// with SIMD BLAS needs (see num.Alloc).
		x, y := t.xbuf[w], t.ybuf[w]
		start := time.Now()
		if tk.ds != nil {
			for r, i := range tk.idx[lo:hi] {
				data.FillRow(tk.ds, i, x[r*in:(r+1)*in])
				data.FillTarget(tk.ds, i, y[r*out:(r+1)*out])
			}
		} else {
			copy(x, tk.x[lo*in:hi*in])
			copy(y, tk.y[lo*out:hi*out])
		}
		t0 := time.Now()
		r.data = t0.Sub(start)
		train := p == phaseGrad
		if train {
			ws.SetDropoutStream(t.cfg.Seed, uint64(tk.step), tk.rowBase+lo)
		}
		pred := ws.Forward(x, hi-lo, train)
		t1 := time.Now()
		r.fwd = t1.Sub(t0)
		if train {
			r.loss = ws.LossGrad(t.cfg.Loss, y, tk.denom)
			ws.Backward()
			r.bwd = time.Since(t1)
		} else {
			r.loss = ws.Loss(t.cfg.Loss, y)
		}
		var conf []int64
		if p == phaseEval {
			conf = t.conf[w]
		}
		r.correct = tally(pred, y, hi-lo, out, conf)
	case phaseReduce, phaseCheck:
		c := t.chunk[w]
		if p == phaseReduce && tk.layer0 {
			c = t.chunk0[w]
		}
		g := t.ws[0].Grad[c[0]:c[1]]
		if p == phaseReduce {
			for k := 1; k < tk.active; k++ {
				num.Axpy(1, t.ws[k].Grad[c[0]:c[1]], g)
			}
		}
		if tk.l1 {
			t.addL1(g, c[0])
		}
		// One vectorised pass: Σg² is NaN or Inf iff some element is (or the
		// squares overflow T, in which case the scan finds nothing and the
		// exact float64 sum is taken instead).
		r.sumSq = float64(num.Dot(g, g))
		if math.IsNaN(r.sumSq) || math.IsInf(r.sumSq, 0) {
			for i, v := range g {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					r.nonFinite, r.badIndex, r.badValue = true, c[0]+i, float64(v)
					return
				}
			}
			r.sumSq = num.SumSquares(g)
		}
	case phaseApply:
		c := t.chunk[w]
		g := t.ws[0].Grad[c[0]:c[1]]
		if tk.coef != 1 {
			num.Scal(tk.coef, g)
		}
		if t.cfg.ClipValue > 0 {
			optim.ClipValue(g, t.cfg.ClipValue)
		}
		t.opt.Apply(t.m.Params, t.ws[0].Grad, c[0], c[1])
	}
}

// addL1 adds L1·sign(w) to g, the gradient of Params[off:off+len(g)], at
// the weights' positions; biases have no L1 term.
func (t *Trainer[T]) addL1(g []T, off int) {
	l1 := T(t.cfg.L1)
	for _, d := range t.m.Layers {
		lo, hi := max(d.Offset, off), min(d.Offset+d.Out*d.In, off+len(g))
		for i := lo; i < hi; i++ {
			switch w := t.m.Params[i]; {
			case w > 0:
				g[i-off] += l1
			case w < 0:
				g[i-off] -= l1
			}
		}
	}
}

// tally counts the rows whose predicted class (model.Class) matches the
// target's, and adds to conf
// (target×prediction, width max(out, 2)) if it is not nil. For regression
// targets the count is meaningless and ignored by callers.
func tally[T num.Float](pred, y []T, n, out int, conf []int64) int64 {
	k := max(out, 2)
	var correct int64
	for r := 0; r < n; r++ {
		p, want := model.Class(pred[r*out:(r+1)*out]), model.Class(y[r*out:(r+1)*out])
		if p == want {
			correct++
		}
		if conf != nil {
			conf[want*k+p]++
		}
	}
	return correct
}

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
	GradNorm float64 // before clipping; computed only when clipping by norm
}

// Step takes one optimizer step on caller-filled micro-batches: their
// gradients are accumulated (as one batch of all their rows) before the
// update. Each micro-batch must have at most Config.BatchSize rows. With a
// Group, the rows are this rank's share of each global micro-batch, whose
// size is the sum over ranks.
func (s *Session[T]) Step(batches ...Batch[T]) (StepResult, error) {
	var sr StepResult
	counts, err := s.globalCounts(batches)
	if err != nil {
		return sr, err
	}
	total := 0
	for _, c := range counts {
		total += int(c[1])
	}
	for i, b := range batches {
		if b.N > s.t.cfg.BatchSize || b.N < 0 {
			return sr, fmt.Errorf("micro-batch %d has %d rows, the trainer was sized for %d", i, b.N, s.t.cfg.BatchSize)
		}
		s.task.x, s.task.y, s.task.ds, s.task.idx = b.X, b.Y, nil, nil
		if err := s.grad(b.N, i == 0, i == len(batches)-1, float64(total), i*s.t.cfg.BatchSize*s.size()+int(counts[i][0]), &sr); err != nil {
			return sr, err
		}
	}
	err = s.finish(total, &sr)
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

func (s *Session[T]) size() int {
	if s.t.distributed() {
		return s.t.cfg.Group.Size()
	}
	return 1
}

// StepIndices takes one optimizer step on samples of ds: each slice of
// micro is a micro-batch of sample indices (at most Config.BatchSize), and
// the workers fill their own rows. With a Group, micro holds the global
// micro-batches (the same on every rank) and each rank trains on its
// contiguous share of each.
func (s *Session[T]) StepIndices(ds *data.Dataset, micro ...[]int) (StepResult, error) {
	total := 0
	for _, idx := range micro {
		total += len(idx)
	}
	var sr StepResult
	for i, idx := range micro {
		if len(idx) > s.t.cfg.BatchSize {
			return sr, fmt.Errorf("micro-batch %d has %d rows, the trainer was sized for %d", i, len(idx), s.t.cfg.BatchSize)
		}
		lo, hi := 0, len(idx)
		if s.t.distributed() {
			lo, hi = data.Shard(len(idx), s.t.cfg.Group.Size(), s.t.cfg.Group.Rank())
		}
		s.task.x, s.task.y, s.task.ds, s.task.idx = nil, nil, ds, idx[lo:hi]
		if err := s.grad(hi-lo, i == 0, i == len(micro)-1, float64(total), i*s.t.cfg.BatchSize+lo, &sr); err != nil {
			return sr, err
		}
	}
	err := s.finish(total, &sr)
	return sr, err
}

// grad runs phase 1 for one micro-batch of n rows of this process.
func (s *Session[T]) grad(n int, zero, last bool, denom float64, rowBase int, sr *StepResult) error {
	t := s.t
	tk := &s.task
	tk.n, tk.zero, tk.denom, tk.rowBase, tk.step = n, zero, denom, rowBase, t.opt.Steps()+1
	if zero {
		tk.active = 0
	}
	tk.active = max(tk.active, min(n, t.cfg.Workers))
	// Overlap on the final micro-batch only: before it, gradients are
	// still accumulating.
	s.overlap = last && t.distributed() && t.cfg.Overlap && len(t.m.Layers) > 1
	if s.overlap {
		s.posted.Store(0)
		for l := range s.layerLeft {
			s.layerLeft[l].Store(int32(min(n, t.cfg.Workers)))
		}
	}
	start := time.Now()
	if err := s.dispatch(phaseGrad); err != nil {
		return err
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
	if t.distributed() {
		// In the order every rank posts them: the finished layers (if
		// backward did not post them all, because this rank had no rows),
		// the step's loss, correct count and stop flag, and after the
		// in-process reduction the rest of the gradient.
		c0 := time.Now()
		buckets := 0
		if s.overlap {
			buckets = len(t.m.Layers) - 1
			for l := len(t.m.Layers) - 1 - int(s.posted.Load()); l >= 1; l-- {
				s.postLayer(l)
			}
		}
		s.stats[0], s.stats[1], s.stats[2] = sr.Loss, float64(sr.Correct), 0
		if s.stop.Err() != nil {
			s.stats[2] = 1
		}
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
	start := time.Now()
	tk.layer0 = s.overlap
	// The L1 term joins the gradient once, after the last sum: in the
	// in-process reduction, or across processes in the check after it.
	tk.l1 = t.cfg.L1 > 0 && !t.distributed()
	if err := s.dispatch(phaseReduce); err != nil {
		return err
	}
	if t.distributed() {
		c0 := time.Now()
		rest := t.ws[0].Grad
		if s.overlap {
			rest = rest[:layerEnd(t.m, 0)]
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
	var sumSq float64
	for w := range t.res {
		if r := &t.res[w]; r.nonFinite {
			return &NonFiniteError{Step: tk.step, Param: r.badIndex, Name: t.m.ParamName(r.badIndex), Value: r.badValue}
		}
		sumSq += t.res[w].sumSq
	}
	t1 := time.Now()
	t.stats.AllReduce += t1.Sub(start)
	tk.coef = 1
	if t.cfg.ClipNorm > 0 {
		sr.GradNorm = math.Sqrt(sumSq)
		tk.coef = T(optim.ClipCoef(sr.GradNorm, t.cfg.ClipNorm))
	}
	step := t.opt.Steps()
	epoch := 0.0
	if t.cfg.StepsPerEpoch > 0 {
		epoch = float64(step) / float64(t.cfg.StepsPerEpoch)
	}
	sr.LR = t.cfg.Schedule.LR(t.opt.Config().LR, step, epoch)
	t.opt.Begin(sr.LR)
	_ = s.dispatch(phaseApply) // never abandoned: see dispatch
	t.stats.Optimizer += time.Since(t1)
	t.stats.Steps++
	t.stats.Samples += int64(total)
	sr.Step, sr.Samples = t.opt.Steps(), total
	sr.Loss /= float64(total)
	return nil
}

// layerFinished is every worker's AfterLayer hook. On the final
// micro-batch of a step across processes, the last worker to finish layer
// l (l ≥ 1) posts it: layers complete in reverse order on every worker, so
// layer l+1 has always been posted before, on every rank alike.
func (s *Session[T]) layerFinished(l int) {
	if !s.overlap || l == 0 || s.layerLeft[l].Add(-1) != 0 {
		return
	}
	s.postLayer(l)
}

// postLayer sums layer l's gradient over the workers, in worker order,
// into worker 0's buffer and hands it to the comm goroutine.
func (s *Session[T]) postLayer(l int) {
	t := s.t
	d := &t.m.Layers[l]
	lo, hi := d.Offset, layerEnd(t.m, l)
	g := t.ws[0].Grad[lo:hi]
	for k := 1; k < s.task.active; k++ {
		num.Axpy(1, t.ws[k].Grad[lo:hi], g)
	}
	s.posted.Add(1)
	s.comm <- commReq[T]{grad: g}
}

// AllReduce runs the reduction phase alone: worker 0's gradient buffer
// becomes the sum of every worker's, each worker summing its own chunk in
// worker order. It reports a non-finite element as a *NonFiniteError.
// Step and StepIndices do this themselves; AllReduce is exposed for
// benchmarks and for reductions layered on top (across processes).
func (s *Session[T]) AllReduce() error {
	s.task.active, s.task.layer0, s.task.l1 = s.t.cfg.Workers, false, false
	if err := s.dispatch(phaseReduce); err != nil {
		return err
	}
	for w := range s.t.res {
		if r := &s.t.res[w]; r.nonFinite {
			return &NonFiniteError{Step: s.t.opt.Steps() + 1, Param: r.badIndex, Name: s.t.m.ParamName(r.badIndex), Value: r.badValue}
		}
	}
	return nil
}

// Grads returns the gradient buffer of each worker (worker 0's holds the
// sum after AllReduce). The buffers belong to the trainer: write them only
// between steps, from the goroutine that called Run.
func (s *Session[T]) Grads() [][]T {
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

// Metrics summarises an evaluation.
type Metrics struct {
	Loss     float64 // mean loss
	Accuracy float64 // fraction correct (classification; NaN for regression)
	N        int
	// Confusion[i][j] counts samples of class i predicted as j
	// (classification only).
	Confusion [][]int64
}

// Evaluate computes the loss and accuracy of the model on ds, in batches
// of Config.BatchSize shared among the workers, with dropout off.
func (s *Session[T]) Evaluate(ds *data.Dataset) (Metrics, error) {
	t := s.t
	out := t.m.Spec.Outputs()
	if err := ds.TargetWidth(out); err != nil {
		return Metrics{}, err
	}
	start := time.Now()
	k := max(out, 2)
	for _, c := range t.conf {
		clear(c)
	}
	var m Metrics
	var loss float64
	var correct int64
	idx := make([]int, t.cfg.BatchSize)
	for lo := 0; lo < ds.N; lo += t.cfg.BatchSize {
		n := min(t.cfg.BatchSize, ds.N-lo)
		for i := range n {
			idx[i] = lo + i
		}
		s.task.n, s.task.ds, s.task.idx = n, ds, idx[:n]
		if err := s.dispatch(phaseEval); err != nil {
			return m, err
		}
		for w := range t.res {
			loss += t.res[w].loss
			correct += t.res[w].correct
		}
	}
	m.N = ds.N
	m.Loss = loss / float64(ds.N)
	if t.distributed() {
		// Every rank evaluated the whole set on its own copy of the weights;
		// rank 0's figures decide (early stopping), so that all ranks agree.
		v := []float64{m.Loss, float64(correct)}
		if err := t.cfg.Group.Broadcast64(v, 0); err != nil {
			return m, err
		}
		m.Loss, correct = v[0], int64(v[1])
	}
	m.Accuracy = math.NaN()
	if ds.Task == data.Classification {
		m.Accuracy = float64(correct) / float64(ds.N)
		nc := len(ds.Classes)
		m.Confusion = make([][]int64, nc)
		for i := range m.Confusion {
			m.Confusion[i] = make([]int64, nc)
			for j := range m.Confusion[i] {
				for _, c := range t.conf {
					if i < k && j < k {
						m.Confusion[i][j] += c[i*k+j]
					}
				}
			}
		}
	}
	t.stats.Eval += time.Since(start)
	return m, nil
}

// Evaluate is Session.Evaluate with workers started and stopped around it.
func (t *Trainer[T]) Evaluate(ctx context.Context, ds *data.Dataset) (Metrics, error) {
	var m Metrics
	err := t.Run(ctx, func(s *Session[T]) error {
		var err error
		m, err = s.Evaluate(ds)
		return err
	})
	return m, err
}
