package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/internal/trainhook"
	"github.com/ptrain/ptrain/model/num"
)

// phase is what a worker is told to do.
type phase int

const (
	phaseGrad   phase = iota // forward + backward of the worker's shard
	phaseReduce              // sum the worker's chunk over all gradients, check it
	phaseCheck               // check the worker's chunk (after a cross-process sum)
	phaseApply               // clip and update the blocks the worker claims (update.go)
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
	idx     []int         // ds sample of each row
	aug     *data.Augment // phaseGrad: fill ds rows augmented, with aug's draws for epoch
	epoch   int
	zero    bool    // first micro-batch of a step: zero the gradient first
	denom   float64 // samples in the whole step
	rowBase int     // global row of this micro-batch's first row (dropout)
	step    int64   // optimizer step being computed
	coef    T       // gradient scale from norm clipping
	active  int     // workers with rows in some micro-batch of this step
	l1      bool    // add the L1 term's gradient to the reduced chunk (Config.L1)
	scan    bool    // phaseReduce sums Σg² and scans for non-finite values: its sum is the last (not across processes, where phaseCheck does it)
	// firstOnly: phaseReduce sums only the first layer with parameters
	// (Trainer.firstChunk), the overlap path having reduced the others
	// in backward.
	firstOnly bool
	// split: phaseGrad deferred the split layers' weight gradients, which
	// phaseReduce computes (split.go).
	split bool
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
	aug     *data.Augment // what StepIndices augments with (see Augment)
	epoch   int
	counts  [][2]float64 // Step's per-micro-batch row offsets and sizes, reused
	ranks   []float64    // Step's row count of every rank and micro-batch (with a Group), reused
	spin    int          // spinBudget, or 0 when workers outnumber processors
	// log and rec record phases for trainhook.Timeline (timeline.go);
	// rec, the current phase's record or nil, is published with the
	// phase, and each worker writes only its own entry of it.
	log *phaseLog
	rec *trainhook.PhaseTiming

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
		s.comm = make(chan commReq[T], len(t.m.Layout.Layers)+2)
		s.commDone = make(chan error, len(t.m.Layout.Layers)+2)
		s.layerLeft = make([]atomic.Int32, len(t.m.Layout.Layers))
		s.stats = make([]float64, 3+len(t.activity())) // and the activity counts
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
		if t.bsync != nil {
			t.bsync.reduce = func(v []float64) error {
				s.comm <- commReq[T]{f64: v}
				return <-s.commDone
			}
		}
		defer func() {
			for _, ws := range t.ws {
				ws.AfterLayer = nil
			}
			if t.bsync != nil {
				t.bsync.reduce = nil
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
	if t.bsync != nil {
		t.bsync.reset()
	}
	defer func() { // also when f panics: no worker outlives Run
		if t.bsync != nil {
			t.bsync.abort.Store(true) // a barrier worker 0 will not reach
		}
		if t.pack != nil {
			t.pack.Abort() // panels worker 0 claimed and will not pack
		}
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
		s.ended(w)
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

// abortable reports whether a cancelled context may cut phase p short.
// Only the phases that compute (gradients, evaluation) may: once a step's
// reduction has started the step runs to the end, so that the optimizer's
// step count, the progress a checkpoint records and the weights always
// agree (an interrupt between Begin and Apply once counted a step whose
// update never happened).
func (p phase) abortable() bool { return p == phaseGrad || p == phaseEval }

// dispatch runs phase p on every worker — worker 0 on the calling
// goroutine — and waits for all of them. For an abortable phase it returns
// ctx.Err() if the context ends first; the workers then finish their phase
// on their own. The other phases are always run and waited out.
func (s *Session[T]) dispatch(p phase) error {
	abort := p.abortable()
	if abort {
		if err := s.ctx.Err(); err != nil {
			return err
		}
	}
	if t := s.t; t.pack != nil && (p == phaseGrad || p == phaseEval) {
		t.pack.Invalidate() // the weights changed since the last forward phase
	}
	s.task.phase = p
	s.startRecord(p)
	s.phase.Store(int32(p))
	s.gen.Add(1) // publishes task and phase to the workers
	s.wakeAll()
	s.t.runPhase(0, p, &s.task)
	s.ended(0)
	n := len(s.workers)
	for i := 0; i < s.spin && len(s.done) < n; i++ {
		runtime.Gosched()
	}
	for i := 0; i < n; i++ {
		if !abort {
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
	if s.rec != nil {
		s.rec.Wall = time.Since(s.log.at)
	}
	return nil
}
