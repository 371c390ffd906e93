package parallel

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// Config configures a Trainer.
type Config struct {
	Workers int // worker goroutines; 0 means runtime.GOMAXPROCS(0)
	// Loss is the objective; the zero value, model.LossAuto, is the one
	// that fits the output activation (model.DefaultLoss: cross-entropy
	// under softmax, binary cross-entropy under sigmoid, MSE otherwise).
	Loss      model.Loss
	Seed      uint64  // dropout randomness (data order is the batcher's)
	ClipNorm  float64 // clip the gradient to this global L2 norm; 0 for none
	ClipValue float64 // clamp each gradient element to ±ClipValue; 0 for none
	// L1 adds L1·Σ|w| over the dense and conv weights (not the biases, not
	// batch norm) to the loss, as Keras's kernel_regularizer: L1·sign(w)
	// joins each step's summed gradient before clipping. Reported losses
	// stay the data loss.
	L1 float64
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
	// NoLayerStats turns off the per-layer statistics (StepResult.Layers,
	// EpochInfo.Layers, most warnings of a health.Monitor). They cost about 1% of
	// a step (README, "Reading the gradient figures"); this is for
	// measuring that. Training computes the same bits either way.
	NoLayerStats bool
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

// Error says which step, and which parameter or the loss.
func (e *NonFiniteError) Error() string {
	if e.Param < 0 {
		return fmt.Sprintf("step %d: the loss is %v", e.Step, e.Value)
	}
	return fmt.Sprintf("step %d: the gradient of parameter %d (%s) is %v", e.Step, e.Param, e.Name, e.Value)
}

// Trainer trains one model with one optimizer across Workers goroutines.
// The optimizer sets each step's learning rate (optim.Config.Schedule) and
// the trainer reports it (StepResult.LR).
// A Trainer is not safe for concurrent use: one Run (or Step, Fit,
// Evaluate) at a time.
//
// The batch size is the caller's: FitConfig.BatchSize, the rows given to
// each Session step, the batch of Evaluate. The trainer sizes its buffers
// itself, for the most rows one of its workers has been given so far —
// this process's share of a micro-batch, and with a Group its rank's
// share of that — and grows them, between steps, when a larger batch
// comes: the first step of a Fit allocates, the ones after it do not.
type Trainer[T num.Float] struct {
	cfg    Config
	m      *model.Model[T]
	opt    *optim.Optimizer[T]
	ws     []*model.Workspace[T]
	xbuf   [][]T         // per worker: input rows filled from a dataset
	ybuf   [][]T         // per worker: target rows
	counts []classCounts // per worker: class counts of an evaluation
	chunk  [][2]int      // per worker: its chunk of the parameter vector
	res    []result      // per worker: the last phase's report
	// firstChunk, per worker: its chunk of Params[:firstEnd()], the first
	// layer with parameters, which phaseReduce sums alone on the overlap
	// path (task.firstOnly).
	firstChunk [][2]int
	// order[a] is the pairwise tree (tree.go) over the workers when the
	// first a have rows: the order every in-process sum adds their parts.
	order [][][2]int
	// shardW is the workers per rank when every rank of the Group has the
	// same number (checked by Broadcast), else 0: StepIndices then gives
	// rank r's worker w global worker r·W+w's rows (see tree.go).
	shardW int
	// buckets are the layers of the stack that hold parameters, in order
	// (model.Layout.Groups): the overlap path posts each but the first as
	// backward finishes it.
	buckets []int
	weights []model.TensorInfo // the tensors with an L1 term (model.RoleWeight)
	// bsync sums batch statistics across workers (and ranks) when the
	// model has layers that need them (batch norm); nil otherwise.
	bsync *batchSync
	// pack is the workers' shared packing of the dense weights (see
	// model.SharedPack), with more than one worker; invalidated before
	// every phase that runs forward.
	pack *model.SharedPack[T]
	// split are the dense layers whose weight gradient a step with few
	// rows per worker splits across the workers (split.go), with more
	// than one worker; splitX and splitDZ, per split layer, the X and dZ
	// of the micro-batch's rows, (rows·W, In) and (rows·W, Out) with rows
	// at most splitMax, which the workers' Backwards fill; splitMax,
	// splitMaxRows when the trainer was made; splitSeen, each worker's
	// scratch for splitSum; splitZ, the first split layer's output over
	// the micro-batch's rows (rows·W, Out) where its forward splits by
	// columns, and splitRows the workers' row bounds there (split.go).
	split           []splitRange
	splitMax        int
	splitX, splitDZ [][]T
	splitSeen       [][]bool
	splitZ          []T
	splitRows       []int
	// blocks are the update phase's units of work, shares each worker's
	// own blocks and their claim counter (update.go).
	blocks   []updateBlock
	shares   []updateShare
	st       *statsState[T] // per-layer statistics
	stats    Stats
	progress Progress
	sums     func() *EpochSums // the running epoch's, while Fit runs
	inputs   int               // values per sample in and out, from the model's layout
	outputs  int
	rows     int // rows each worker's buffers hold (reserve)
}

// New returns a trainer. The optimizer must have been made for the model's
// parameter count, len(m.Params); New returns an error otherwise. With a
// nil optimizer the trainer evaluates but does not train: Step,
// StepIndices and Fit return ErrNoOptimizer.
func New[T num.Float](m *model.Model[T], opt *optim.Optimizer[T], cfg Config) (*Trainer[T], error) {
	if m == nil {
		return nil, fmt.Errorf("parallel.New needs a model")
	}
	if opt != nil && opt.Len() != len(m.Params) {
		return nil, fmt.Errorf("the optimizer was made for %d parameters, the model has %d (optim.New(cfg, len(m.Params)))", opt.Len(), len(m.Params))
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Workers < 1 || cfg.Workers > 4096 {
		return nil, fmt.Errorf("workers %d: must be in [1, 4096]", cfg.Workers)
	}
	cfg.Loss = cfg.Loss.Resolve(m.Spec)
	if err := model.CheckLoss(cfg.Loss, m.Spec); err != nil {
		return nil, err
	}
	if !(cfg.ClipNorm >= 0) || !(cfg.ClipValue >= 0) {
		return nil, fmt.Errorf("clipping thresholds must be ≥ 0 (norm %g, value %g)", cfg.ClipNorm, cfg.ClipValue)
	}
	if !(cfg.L1 >= 0) || math.IsInf(cfg.L1, 0) {
		return nil, fmt.Errorf("L1 coefficient %g: must be a finite number ≥ 0", cfg.L1)
	}
	in, out := m.Spec.Inputs, m.Layout.Layers[len(m.Layout.Layers)-1].Out.Size()
	t := &Trainer[T]{cfg: cfg, m: m, opt: opt, inputs: in, outputs: out}
	w := cfg.Workers
	k := max(out, 2)
	p := len(m.Params)
	for _, g := range m.Layout.Groups {
		t.buckets = append(t.buckets, g.Layer)
	}
	for _, l := range m.Layout.Layers {
		for _, p := range l.Params {
			if p.Role == model.RoleWeight {
				t.weights = append(t.weights, p)
			}
		}
	}
	if m.NeedsSync() {
		t.bsync = newBatchSync(w, treeOrder(w, w))
	}
	if w > 1 {
		t.pack = model.NewSharedPack(m)
		t.split, t.splitMax = splitRanges(m), splitMaxRows
		t.splitX, t.splitDZ = make([][]T, len(t.split)), make([][]T, len(t.split))
		for range w {
			t.splitSeen = append(t.splitSeen, make([]bool, w))
		}
	}
	t.ws, t.xbuf, t.ybuf = make([]*model.Workspace[T], w), make([][]T, w), make([][]T, w)
	t.reserve(1)
	for i := 0; i < w; i++ {
		if len(m.Buffers) > 0 {
			t.ws[i].Running = num.Alloc[T](len(m.Buffers))
		}
		if t.bsync != nil {
			t.ws[i].Sync = t.bsync.part(i)
		}
		t.counts = append(t.counts, newClassCounts(k))
		t.chunk = append(t.chunk, paramChunk(p, w, i))
		t.firstChunk = append(t.firstChunk, paramChunk(t.firstEnd(), w, i))
	}
	t.res = make([]result, w)
	t.order = treeOrders(w)
	t.st = newStatsState(m, w, !cfg.NoLayerStats)
	t.blocks = updateBlocks(p, t.st.layers)
	t.shares = updateShares(t.blocks, t.chunk)
	if t.st.on {
		t.st.wsq, t.st.dsq = make([]float64, len(t.blocks)), make([]float64, len(t.blocks))
	}
	return t, nil
}

// reserve makes every worker's buffers hold at least rows rows: new
// workspaces and row buffers, which keep the old workspaces' gradient
// (with what it has accumulated: a step may grow between micro-batches),
// staging buffer and hooks. Only the coordinator calls it, between
// phases, so no worker holds the old ones.
func (t *Trainer[T]) reserve(rows int) {
	if rows <= t.rows {
		return
	}
	for w, old := range t.ws {
		ws := model.NewWorkspace(t.m, rows)
		ws.Pack, ws.Part = t.pack, w
		if old != nil {
			ws.Grad, ws.Running, ws.Sync, ws.AfterLayer, ws.InputGrad = old.Grad, old.Running, old.Sync, old.AfterLayer, old.InputGrad
		}
		t.ws[w] = ws
		t.xbuf[w] = num.Alloc[T](rows * t.inputs)
		t.ybuf[w] = num.Alloc[T](rows * t.outputs)
	}
	t.reserveSplit(rows)
	t.rows = rows
}

// reserveShare is reserve for a micro-batch of which this process
// computes n rows, cut among the workers by data.Shard: the first worker's
// piece is the largest.
func (t *Trainer[T]) reserveShare(n int) {
	t.reserve((n + t.cfg.Workers - 1) / t.cfg.Workers)
}

// firstEnd is the end in Params of the first layer that has parameters:
// the part the overlap path leaves to the reduction phase.
func (t *Trainer[T]) firstEnd() int {
	if len(t.buckets) == 0 {
		return 0
	}
	return t.m.Layout.Groups[0].Hi
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

// Optimizer returns the optimizer (nil for a trainer that only evaluates).
func (t *Trainer[T]) Optimizer() *optim.Optimizer[T] { return t.opt }

// Loss is the objective the trainer trains and evaluates with: Config.Loss,
// with LossAuto resolved once by New to the model's model.DefaultLoss.
func (t *Trainer[T]) Loss() model.Loss { return t.cfg.Loss }

// ErrNoOptimizer is returned by the training calls of a Trainer made
// without an optimizer.
var ErrNoOptimizer = errors.New("parallel: the trainer was made without an optimizer: it evaluates only")

// Stats returns the per-phase timings so far.
func (t *Trainer[T]) Stats() Stats { return t.stats }
