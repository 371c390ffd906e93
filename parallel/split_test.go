package parallel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// withSplit runs f with the split's thresholds set to maxRows rows per
// worker and every dense layer of at least minWeights weights.
func withSplit(maxRows, minWeights int, f func()) {
	r, w := splitMaxRows, splitMinWeights
	splitMaxRows, splitMinWeights = maxRows, minWeights
	defer func() { splitMaxRows, splitMinWeights = r, w }()
	f()
}

// splitRun trains steps of batches of n rows (one micro-batch each, or
// two with accum) on W workers with or without the split and returns the
// weights, every step's gradient norm and per-layer statistics, and
// whether some step split.
func splitRun[T num.Float](t *testing.T, w, n int, split, accum bool, cfg Config) (params []T, figures []float64, didSplit bool) {
	t.Helper()
	m, err := model.New[T](model.MustParseSpec(testSpec), 5)
	if err != nil {
		t.Fatal(err)
	}
	ocfg := optim.Defaults(optim.Momentum)
	ocfg.LR = 0.1
	opt, _ := optim.New[T](ocfg, len(m.Params))
	cfg.Workers, cfg.Loss, cfg.Seed = w, model.CrossEntropy, 7
	maxRows := 0
	if split {
		maxRows = 1 << 20
	}
	withSplit(maxRows, 1, func() {
		tr, err := New(m, opt, cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = tr.Run(context.Background(), func(s *Session[T]) error {
			for step := range 4 {
				x64, y64 := randomRows(uint64(10+step), n, 6, 4)
				x, y := make([]T, len(x64)), make([]T, len(y64))
				for i := range x64 {
					x[i] = T(x64[i])
				}
				for i := range y64 {
					y[i] = T(y64[i])
				}
				batches := []Batch[T]{{X: x, Y: y, N: n}}
				if accum {
					h := n / 2
					batches = []Batch[T]{{X: x[:h*6], Y: y[:h*4], N: h}, {X: x[h*6:], Y: y[h*4:], N: n - h}}
				}
				sr, err := s.Step(batches...)
				if err != nil {
					return err
				}
				didSplit = didSplit || s.task.split
				figures = append(figures, sr.GradNorm)
				for _, l := range sr.Layers {
					figures = append(figures, l.GradNorm, l.WeightNorm, l.UpdateRatio)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	return m.Params, figures, didSplit
}

// TestSplitWeightGradMatchesUnsplit: splitting the dense weight gradients
// across the workers (split.go) trains what the per-worker products and
// their reduction do, within rounding — weights, gradient norms and
// per-layer statistics — on 2, 3 and 4 workers, with batches that leave
// workers without rows, with L1 and clipping (the reduction's other path),
// in float32 and float64; and the same W twice gives the same bits. With
// two micro-batches the step does not split.
func TestSplitWeightGradMatchesUnsplit(t *testing.T) {
	for _, c := range []struct {
		w, n int
		cfg  Config
	}{
		{2, 16, Config{}}, {2, 5, Config{ClipNorm: 0.5}}, {3, 13, Config{}}, {4, 13, Config{L1: 1e-3}},
		{4, 3, Config{}}, {4, 40, Config{NoLayerStats: true}},
	} {
		t.Run(fmt.Sprintf("W=%d/n=%d", c.w, c.n), func(t *testing.T) {
			check := func(name string, got, want []float64, tol float64) {
				t.Helper()
				for i := range want {
					if got[i] != want[i] && !(math.Abs(got[i]-want[i]) <= tol*(1+math.Abs(want[i]))) {
						t.Fatalf("%s: value %d is %v with the split, %v without", name, i, got[i], want[i])
					}
				}
			}
			p32, f32, did := splitRun[float32](t, c.w, c.n, true, false, c.cfg)
			if !did {
				t.Fatal("no step split")
			}
			again, fAgain, _ := splitRun[float32](t, c.w, c.n, true, false, c.cfg)
			check("float32 weights, split twice", widen(p32), widen(again), 0)
			check("float32 figures, split twice", f32, fAgain, 0)
			q32, g32, _ := splitRun[float32](t, c.w, c.n, false, false, c.cfg)
			check("float32 weights", widen(p32), widen(q32), 1e-5)
			check("float32 figures", f32, g32, 1e-4)
			p64, f64, _ := splitRun[float64](t, c.w, c.n, true, false, c.cfg)
			q64, g64, _ := splitRun[float64](t, c.w, c.n, false, false, c.cfg)
			check("float64 weights", p64, q64, 1e-12)
			check("float64 figures", f64, g64, 1e-10)
			if _, _, did := splitRun[float64](t, c.w, c.n, true, true, c.cfg); did {
				t.Error("a step of two micro-batches split")
			}
		})
	}
}

// TestSplitTwoWorkersSumAsOne: with 2 workers a split layer's weight
// gradient is one product over the batch's rows (the tree's lowest pair),
// the one worker's own: on ptrain's kernels bit for bit, in float32.
func TestSplitTwoWorkersSumAsOne(t *testing.T) {
	grad := func(w int) []float32 {
		var g []float32
		withSplit(1<<20, 1, func() {
			m, _ := model.New[float32](model.MustParseSpec(testSpec), 5)
			opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
			tr, err := New(m, opt, Config{Workers: w, Loss: model.CrossEntropy, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			x64, y64 := randomRows(3, 21, 6, 4)
			x, y := make([]float32, len(x64)), make([]float32, len(y64))
			for i := range x64 {
				x[i] = float32(x64[i])
			}
			for i := range y64 {
				y[i] = float32(y64[i])
			}
			err = tr.Run(context.Background(), func(s *Session[float32]) error {
				_, err := s.Step(Batch[float32]{X: x, Y: y, N: 21})
				if w > 1 && !s.task.split {
					t.Error("the step did not split")
				}
				g = append(g, s.grads()[0]...) // the step's reduced gradient
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			wt := m.Layout.Layers[0].Params[0] // the first layer's weight, split with 2 workers
			g = g[wt.Offset : wt.Offset+wt.Size()]
		})
		return g
	}
	one, two := grad(1), grad(2)
	for i := range one {
		if num.OwnKernels() && one[i] != two[i] || math.Abs(float64(one[i]-two[i])) > 1e-6 {
			t.Fatalf("element %d of the first layer's weight gradient: %v on 2 workers, %v on 1", i, two[i], one[i])
		}
	}
}

// TestSplitWeightGradMatchesOneWorker: with the split, W ∈ {2, 3, 4}
// workers train what one does, to 1e-10 in float64.
func TestSplitWeightGradMatchesOneWorker(t *testing.T) {
	want, _, _ := splitRun[float64](t, 1, 13, true, false, Config{})
	for w := 2; w <= 4; w++ {
		got, _, did := splitRun[float64](t, w, 13, true, false, Config{})
		if !did {
			t.Fatalf("W=%d: no step split", w)
		}
		for i := range want {
			if d := math.Abs(got[i] - want[i]); d > 1e-10 {
				t.Fatalf("W=%d: parameter %d differs by %g from one worker's", w, i, d)
			}
		}
	}
}

// TestSplitFitResumesExactly: a run cut mid-epoch and resumed into fresh
// objects from its weights, optimizer state and progress ends bit for bit
// where the uninterrupted one does, with the split active (at the default
// thresholds: the first layer's 64×256 weight is split, the second's
// 256×10 is not) — in every step (batches of 48: 24 rows per worker), and
// switching within each epoch (batches of 70, 35 rows per worker, do not
// split, the epoch's last partial batch of 38 does).
func TestSplitFitResumesExactly(t *testing.T) {
	const spec = "64-256:relu:dropout=0.1-10:softmax"
	train, val := digitsSplit(t)
	fit := func(m *model.Model[float32], opt *optim.Optimizer[float32], cfg FitConfig) (FitResult, error) {
		tr, err := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Fit(context.Background(), train, val, cfg)
	}
	fresh := func() (*model.Model[float32], *optim.Optimizer[float32]) {
		m, _ := model.New[float32](model.MustParseSpec(spec), 1)
		opt, _ := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
		return m, opt
	}
	m0, _ := fresh()
	if r := splitRanges(m0); len(r) != 1 || r[0].layer != 0 {
		t.Fatalf("split layers %v, want the first alone", r)
	}
	for _, c := range []struct {
		batch           int
		fullSplit, last bool // whether the full batches and the last partial one split
	}{{48, true, true}, {70, false, true}} {
		t.Run(fmt.Sprintf("batch=%d", c.batch), func(t *testing.T) {
			last := train.N % c.batch
			if (c.batch/2 <= splitMaxRows) != c.fullSplit || last == 0 || ((last+1)/2 <= splitMaxRows) != c.last {
				t.Fatalf("%d training rows in batches of %d do not split as this test needs", train.N, c.batch)
			}
			cfg := FitConfig{Epochs: 2, BatchSize: c.batch, Shuffle: true, Seed: 3}
			mw, ow := fresh()
			if _, err := fit(mw, ow, cfg); err != nil {
				t.Fatal(err)
			}
			stopAt := errors.New("interrupt")
			cut := cfg
			cut.OnStep = func(s StepInfo) error {
				if s.Epoch == 1 && s.Batch == 5 {
					return stopAt
				}
				return nil
			}
			m1, o1 := fresh()
			res, err := fit(m1, o1, cut)
			if !errors.Is(err, stopAt) {
				t.Fatalf("interrupted run: %v", err)
			}
			m2 := m1.Clone()
			o2, _ := optim.New[float32](o1.Config(), len(m2.Params))
			if err := o2.LoadState(o1.State()); err != nil {
				t.Fatal(err)
			}
			resume := cfg
			resume.Start = res.Progress
			if _, err := fit(m2, o2, resume); err != nil {
				t.Fatal(err)
			}
			for i := range mw.Params {
				if m2.Params[i] != mw.Params[i] {
					t.Fatalf("the resumed run differs from the uninterrupted one at parameter %d: %v, %v", i, m2.Params[i], mw.Params[i])
				}
			}
		})
	}
}

func widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// TestSplitStepAllocatesNothing: steps that split, and steps that switch
// between splitting (6 rows, 3 per worker) and not (10 rows, 5 per
// worker), allocate nothing once the trainer has seen both.
func TestSplitStepAllocatesNothing(t *testing.T) {
	withSplit(4, 1, func() {
		m := newModel(t, testSpec)
		opt, _ := optim.New[float64](optim.Defaults(optim.Momentum), len(m.Params))
		tr, err := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		x, y := randomRows(4, 10, 6, 4)
		err = tr.Run(context.Background(), func(s *Session[float64]) error {
			split := func(n int) bool {
				_, err := s.Step(Batch[float64]{X: x[:n*6], Y: y[:n*4], N: n})
				if err != nil {
					t.Fatal(err)
				}
				return s.task.split
			}
			if !split(6) || split(10) { // warm-up, and what each step does
				t.Fatal("6 rows did not split or 10 did")
			}
			if n := testing.AllocsPerRun(10, func() { split(6) }); n != 0 {
				t.Errorf("%v allocations per split step", n)
			}
			if n := testing.AllocsPerRun(10, func() { split(6); split(10) }); n != 0 {
				t.Errorf("%v allocations per pair of steps that switch", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestSplitBuffersHoldOnlyWhatCanSplit: the shared X and dZ rows of the
// split layers are sized for at most splitMaxRows rows per worker, since
// no micro-batch with more splits — a trainer of big batches does not
// carry a copy of every layer's X and dZ for the whole batch — and a
// batch that splits after a bigger one still finds them large enough.
func TestSplitBuffersHoldOnlyWhatCanSplit(t *testing.T) {
	m, err := model.New[float64](model.MustParseSpec(testSpec), 5)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(m.Params))
	const maxRows, w = 4, 2
	withSplit(maxRows, 1, func() {
		tr, err := New(m, opt, Config{Workers: w, Loss: model.CrossEntropy, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		err = tr.Run(context.Background(), func(s *Session[float64]) error {
			for _, n := range []int{40, 6} { // 20 rows per worker: no split; then 3: split
				x, y := randomRows(uint64(n), n, 6, 4)
				if _, err := s.Step(Batch[float64]{X: x, Y: y, N: n}); err != nil {
					return err
				}
				if split := s.task.split; split != (n == 6) {
					t.Errorf("batch %d: split %v", n, split)
				}
				for k, r := range tr.split {
					info := &m.Layout.Layers[r.layer]
					if got, want := len(tr.splitX[k]), maxRows*w*info.In[0]; got != want {
						t.Errorf("batch %d: layer %d's shared X holds %d values, want %d (%d rows per worker)", n, r.layer, got, want, maxRows)
					}
					if got, want := len(tr.splitDZ[k]), maxRows*w*info.Out[0]; got != want {
						t.Errorf("batch %d: layer %d's shared dZ holds %d values, want %d", n, r.layer, got, want)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestSplitColumnsWhereItPays: a split step computes the MNIST MLP's
// first layer by columns with 2 and 4 workers at 8–16 rows per worker (on
// CPUs whose kernels read a packing for the batch's rows), but not with 16
// workers at batch 128, where a worker's one panel of all 128 rows would
// be twice its own 8 rows, nor when some worker has no rows, nor with
// more workers than processors.
func TestSplitColumnsWhereItPays(t *testing.T) {
	m, err := model.New[float32](model.MustParseSpec("784-256:relu-128:relu-10:softmax"), 5)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []struct {
		workers, n, procs int
		want              bool // with panels of 32 columns (AVX-512's)
		want16            bool // with panels of 16 (AVX2's: one panel of all rows is half as many products)
	}{
		{2, 32, 2, true, true}, {2, 33, 2, true, true}, {4, 32, 4, true, true}, {4, 64, 4, true, true},
		{16, 128, 16, false, true}, {8, 64, 8, true, true}, {16, 64, 16, false, true}, {16, 32, 16, false, true}, {12, 128, 12, false, false}, {4, 3, 4, false, false},
		{4, 32, 2, false, false}, {2, 32, 1, false, false}, // more workers than processors
	} {
		runtime.GOMAXPROCS(c.procs)
		tr, err := New(m, opt, Config{Workers: c.workers, Loss: model.CrossEntropy, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		if !tr.pack.CanSplitColumns(m, 0) {
			t.Logf("%d rows: no packing of the first layer for the running kernels in this build or on this CPU", c.n)
			continue
		}
		tr.reserveSplit((c.n + c.workers - 1) / c.workers)
		want := c.want
		if tr.pack.SplitWidth(m, 0, 1000) == 16 { // more parts than panels: the widest has one
			want = c.want16
		}
		if got := tr.splitColumns(c.n, true); got != want {
			t.Errorf("%d workers on %d processors, batch %d: split by columns %v, want %v", c.workers, c.procs, c.n, got, want)
		}
		tr.pack.NoSplit()
	}
}

// TestSplitPays is splitPays's rule on the products a worker computes.
func TestSplitPays(t *testing.T) {
	for _, c := range []struct {
		width, n, shard, out int
		want                 bool
	}{
		{128, 32, 16, 256, true}, // 2 workers, batch 32: 4096 against 4096
		{32, 128, 8, 256, false}, // 16 workers, batch 128: 4096 against 2048
		{96, 32, 11, 256, false}, // 3 workers, batch 32: 3 panels of 8
		{64, 32, 8, 256, true},   // 4 workers, batch 32
		{100, 40, 40, 100, true}, // 1 part: the same products
		{64, 10, 5, 100, false},  // 64·10 > 5·100
	} {
		if got := splitPays(c.width, c.n, c.shard, c.out); got != c.want {
			t.Errorf("splitPays(%d, %d, %d, %d) = %v, want %v", c.width, c.n, c.shard, c.out, got, c.want)
		}
	}
}

// TestColumnSplitStepMatchesUnsplit: steps whose first dense layer runs by
// columns (splitColumns) train the bits of the same steps computing it
// worker by worker — weights after three steps of Adam, in float32 and
// float64, with dropout or batch norm after the split layer, on 2 to 8
// workers and batches that W does not divide. The trainers differ only in
// splitZ, without which no step splits by columns.
func TestColumnSplitStepMatchesUnsplit(t *testing.T) {
	for _, c := range []struct {
		spec string
		w, n int
	}{
		{"784-256:relu:dropout=0.2-128:relu-10:softmax", 2, 32},
		{"784-256:relu:dropout=0.2-128:relu-10:softmax", 2, 33},
		{"784-192:tanh-10:softmax", 3, 33},
		{"784-256:relu-128:relu-10:softmax", 4, 64},
		{"784-256:relu-128:relu-10:softmax", 8, 64},
		{"784-256-bn:relu-10:softmax", 2, 30},
	} {
		t.Run(fmt.Sprintf("%s/W=%d/n=%d", c.spec, c.w, c.n), func(t *testing.T) {
			columnSplitStep[float32](t, c.spec, c.w, c.n)
			columnSplitStep[float64](t, c.spec, c.w, c.n)
		})
	}
}

func columnSplitStep[T num.Float](t *testing.T, spec string, w, n int) {
	t.Helper()
	// A processor per worker, or the trainer does not split (splitColumns).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(w, runtime.GOMAXPROCS(0))))
	run := func(byColumns bool) []T {
		m, err := model.New[T](model.MustParseSpec(spec), 5)
		if err != nil {
			t.Fatal(err)
		}
		opt, _ := optim.New[T](optim.Defaults(optim.Adam), len(m.Params))
		tr, err := New(m, opt, Config{Workers: w, Loss: model.CrossEntropy, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		if !tr.pack.CanSplitColumns(m, 0) {
			t.Skipf("%T: no packing of the first layer for the running kernels in this build or on this CPU", T(0))
		}
		tr.reserveShare(n) // no step below grows the buffers, which would allocate splitZ again
		if !byColumns {
			tr.splitZ = nil
		}
		for step := range 3 {
			x64, y64 := randomRows(uint64(40+step), n, m.Spec.Inputs, m.Spec.Outputs())
			x, y := make([]T, len(x64)), make([]T, len(y64))
			for i := range x64 {
				x[i] = T(x64[i])
			}
			for i := range y64 {
				y[i] = T(y64[i])
			}
			tr.splitRows = tr.splitRows[:0] // splitColumns fills it where it arms the split
			if _, err := tr.Step(context.Background(), x, y, n); err != nil {
				t.Fatal(err)
			}
			if split := len(tr.splitRows) > 0; split != byColumns {
				t.Fatalf("step %d split by columns: %v, want %v", step, split, byColumns)
			}
		}
		return m.Params
	}
	got, want := run(true), run(false)
	for i := range want {
		if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
			t.Fatalf("%T parameter %d: %v by columns, %v without", T(0), i, got[i], want[i])
		}
	}
}

// TestStepAfterAPanickedColumnSplit: a panic in worker 0's share of a step
// that splits by columns (here filling a row of an index past the dataset)
// reaches the caller, also when worker 1 already waits in the split for
// worker 0's rows (SharedPack.Abort releases it; TestColumnSplitAbort in
// model checks that it does); and the trainer then takes steps that do not
// split by columns, which found the panicked step's split still armed and
// panicked.
func TestStepAfterAPanickedColumnSplit(t *testing.T) {
	m, err := model.New[float32](model.MustParseSpec("784-256:relu-10:softmax"), 5)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
	tr, err := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.pack.CanSplitColumns(m, 0) {
		t.Skip("no packing of the first layer for the running kernels in this build or on this CPU")
	}
	ds := &data.Dataset{N: 64, Features: 784, F64: make([]float64, 64*784), Labels: make([]int32, 64), Classes: make([]string, 10)}
	idx := make([]int, 32)
	for i := range idx {
		idx[i] = i
	}
	idx[0] = ds.N // worker 0's first row: FillRow panics
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		_ = tr.Run(context.Background(), func(s *Session[float32]) error {
			_, err := s.StepIndices(ds, idx)
			return err
		})
	}()
	select {
	case r := <-done:
		if s := fmt.Sprint(r); !strings.Contains(s, "out of range") {
			t.Fatalf("recovered %v, want FillRow's panic", s)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the step hung after a panic in worker 0's share of a column split")
	}
	if len(tr.splitRows) == 0 {
		t.Fatal("the step did not split by columns")
	}
	x, y := make([]float32, 80*784), make([]float32, 80*10)
	for r := range 80 {
		y[r*10] = 1
	}
	for _, n := range []int{80, 1} { // no split at all; no column split (a worker without rows)
		if _, err := tr.Step(context.Background(), x[:n*784], y[:n*10], n); err != nil {
			t.Fatalf("a step of %d rows after the panic: %v", n, err)
		}
	}
}
