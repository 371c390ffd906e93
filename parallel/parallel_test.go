package parallel

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testSpec = "6-16:relu:dropout=0.25-12:tanh-4:softmax"

func newModel(t testing.TB, spec string) *model.Model[float64] {
	t.Helper()
	m, err := model.New[float64](model.MustParseSpec(spec), 5)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randomRows(seed uint64, n, in, out int) (x, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	x, y = make([]float64, n*in), make([]float64, n*out)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	for r := 0; r < n; r++ {
		y[r*out+rng.IntN(out)] = 1
	}
	return x, y
}

// reference takes steps with one workspace and no trainer: the definition
// of what every worker count must compute.
func reference(t *testing.T, m *model.Model[float64], cfg optim.Config, seed uint64, batches [][2][]float64, n int) {
	opt, _ := optim.New[float64](cfg, len(m.Params))
	ws := model.NewWorkspace(m, n)
	for _, b := range batches {
		ws.ZeroGrad()
		ws.SetDropoutStream(seed, uint64(opt.Steps()+1), 0)
		ws.Forward(b[0], n, true)
		ws.LossGrad(model.CrossEntropy, b[1], float64(n))
		ws.Backward()
		opt.Step(m.Params, ws.Grad)
	}
}

// stepBatches takes one step per batch (n rows each) with w workers on a
// fresh newModel(spec) and returns the model.
func stepBatches(t *testing.T, spec string, cfg optim.Config, w int, batches [][2][]float64, n int) *model.Model[float64] {
	t.Helper()
	m := newModel(t, spec)
	opt, _ := optim.New[float64](cfg, len(m.Params))
	tr, err := New(m, opt, Config{Workers: w, Loss: model.CrossEntropy, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Run(context.Background(), func(s *Session[float64]) error {
		for _, b := range batches {
			if _, err := s.Step(Batch[float64]{X: b[0], Y: b[1], N: n}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWorkersMatchSingleWorkerReference(t *testing.T) {
	for _, method := range []optim.Method{optim.SGD, optim.Adam} {
		for _, n := range []int{10, 3, 1} {
			var batches [][2][]float64
			for s := range 4 {
				x, y := randomRows(uint64(s), n, 6, 4)
				batches = append(batches, [2][]float64{x, y})
			}
			cfg := optim.Defaults(method)
			cfg.LR = 0.05
			want := newModel(t, testSpec)
			reference(t, want, cfg, 9, batches, n)
			for _, w := range []int{1, 2, 3, 4, 7} {
				m := stepBatches(t, testSpec, cfg, w, batches, n)
				var worst float64
				for i := range m.Params {
					worst = max(worst, math.Abs(m.Params[i]-want.Params[i]))
				}
				if worst >= 1e-10 {
					t.Errorf("%v, batch %d, %d workers: max |Δ| = %g from the reference", method, n, w, worst)
				}
			}
		}
	}
}

func TestAccumulationEqualsOneLargeBatch(t *testing.T) {
	x, y := randomRows(1, 10, 6, 4)
	run := func(micro bool) []float64 {
		m := newModel(t, "6-16:relu-4:softmax")
		opt, _ := optim.New[float64](optim.Defaults(optim.Adam), len(m.Params))
		tr, _ := New(m, opt, Config{Workers: 3, Loss: model.CrossEntropy})
		_ = tr.Run(context.Background(), func(s *Session[float64]) error {
			var err error
			if micro {
				_, err = s.Step(Batch[float64]{X: x[:4*6], Y: y[:4*4], N: 4}, Batch[float64]{X: x[4*6:], Y: y[4*4:], N: 6})
			} else {
				_, err = s.Step(Batch[float64]{X: x, Y: y, N: 10})
			}
			return err
		})
		return m.Params
	}
	a, b := run(true), run(false)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12 {
			t.Fatalf("parameter %d: accumulated %v, one batch %v", i, a[i], b[i])
		}
	}
}

func digitsSplit(t testing.TB) (train, val *data.Dataset) {
	d, err := data.Digits()
	if err != nil {
		t.Fatal(err)
	}
	train, val, err = d.Split(0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	return train, val
}

func fitDigits(t *testing.T, workers int, cfg FitConfig) (*Trainer[float32], FitResult, error) {
	return fitDigitsSpec(t, "64-32:relu:dropout=0.1-10:softmax", workers, cfg)
}

// fitDigitsSpec fits spec on the digits' training split with Adam at lr
// 0.01, validating on the rest.
func fitDigitsSpec(t *testing.T, spec string, workers int, cfg FitConfig) (*Trainer[float32], FitResult, error) {
	train, val := digitsSplit(t)
	tr := newDigitsSpec(t, spec, workers)
	cfg.BatchSize = 64
	res, err := tr.Fit(context.Background(), train, val, cfg)
	return tr, res, err
}

// newDigitsSpec is fitDigitsSpec's trainer, before it trains.
func newDigitsSpec(t *testing.T, spec string, workers int) *Trainer[float32] {
	m, _ := model.New[float32](model.MustParseSpec(spec), 1)
	oc := optim.Defaults(optim.Adam)
	oc.LR = 0.01
	opt, _ := optim.New[float32](oc, len(m.Params))
	tr, err := New(m, opt, Config{Workers: workers, Loss: model.CrossEntropy, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestFitLearnsDigitsAndRepeatsBitForBit(t *testing.T) {
	var last float64
	cfg := FitConfig{Epochs: 8, Shuffle: true, Seed: 3, OnEpoch: func(e EpochInfo) error { last = e.Val.Accuracy; return nil }}
	a, _, err := fitDigits(t, 3, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if last < 0.93 {
		t.Fatalf("validation accuracy %v after 8 epochs, want ≥ 0.93", last)
	}
	b, _, _ := fitDigits(t, 3, cfg)
	for i := range a.m.Params {
		if a.m.Params[i] != b.m.Params[i] {
			t.Fatalf("two runs with the same seed and workers differ at parameter %d", i)
		}
	}
	st := a.Stats()
	if st.Steps != 8*23 || st.Forward <= 0 || st.Backward <= 0 || st.AllReduce <= 0 || st.Optimizer <= 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestResumedFitEqualsUninterrupted(t *testing.T) {
	cfg := FitConfig{Epochs: 3, BatchSize: 64, Shuffle: true, Seed: 3}
	whole, _, err := fitDigits(t, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopAt := errors.New("interrupt")
	cut := cfg
	cut.OnStep = func(s StepInfo) error {
		if s.Epoch == 1 && s.Batch == 7 {
			return stopAt
		}
		return nil
	}
	first, res, err := fitDigits(t, 2, cut)
	if !errors.Is(err, stopAt) || res.Epoch != 1 || res.Batch != 7 {
		t.Fatalf("interrupted run: %v at %+v", err, res.Progress)
	}
	// Resume into fresh objects from what a checkpoint holds: the weights,
	// the optimizer state and the progress.
	resume := cfg
	resume.Start = res.Progress
	train, val := digitsSplit(t)
	m := first.m.Clone()
	opt, _ := optim.New[float32](first.opt.Config(), len(m.Params))
	if err := opt.LoadState(first.opt.State()); err != nil {
		t.Fatal(err)
	}
	tr, _ := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy, Seed: 2})
	if _, err := tr.Fit(context.Background(), train, val, resume); err != nil {
		t.Fatal(err)
	}
	for i := range m.Params {
		if m.Params[i] != whole.m.Params[i] {
			t.Fatalf("resumed run differs from the uninterrupted one at parameter %d", i)
		}
	}
}

func TestCancellationStopsWithinAStep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	train, val := digitsSplit(t)
	m, _ := model.NewZero[float32](model.MustParseSpec("64-32:relu-10:softmax"))
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
	tr, _ := New(m, opt, Config{Workers: 3, Loss: model.CrossEntropy})
	steps := 0
	res, err := tr.Fit(ctx, train, val, FitConfig{Epochs: 5, BatchSize: 32, OnStep: func(StepInfo) error {
		steps++
		if steps == 5 {
			cancel()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit after cancel: %v", err)
	}
	if steps != 5 || res.Epoch != 0 || res.Batch != 5 || opt.Steps() != 5 {
		t.Fatalf("ran %d steps, progress %+v, optimizer at %d", steps, res.Progress, opt.Steps())
	}
}

func TestNonFiniteStopsBeforeTheUpdate(t *testing.T) {
	x, y := randomRows(1, 8, 6, 4)
	m := newModel(t, "6-16:relu-4:softmax")
	opt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(m.Params))
	tr, _ := New(m, opt, Config{Workers: 3, Loss: model.CrossEntropy})
	before := append([]float64(nil), m.Params...)

	// A NaN in a gradient: planted in worker 2's buffer after backward.
	err := tr.Run(context.Background(), func(s *Session[float64]) error {
		var sr StepResult
		s.task.x, s.task.y = x, y
		if err := s.grad(8, true, true, 8, 0, &sr); err != nil {
			return err
		}
		tr.ws[2].Grad[123] = math.NaN()
		return s.finish(8, &sr)
	})
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Param != 123 || nf.Step != 1 || nf.Name != "dense.1.weight[0, 11]" {
		t.Fatalf("error %v, want a NonFiniteError at parameter 123 (dense.1.weight[0, 11]) of step 1", err)
	}
	// A NaN input: the loss is NaN.
	x[7] = math.NaN()
	_, err = tr.Step(context.Background(), x, y, 8)
	if !errors.As(err, &nf) || nf.Param != -1 {
		t.Fatalf("NaN input: %v", err)
	}
	for i := range before {
		if m.Params[i] != before[i] || opt.Steps() != 0 {
			t.Fatal("the weights or the optimizer moved on a non-finite step")
		}
	}
}

// TestBatchSmallerThanWorkersAndGrowingBatch: a batch with fewer rows than
// workers steps, and a larger batch than the trainer has seen grows its
// buffers between steps: the step is the one a trainer that saw only
// large batches takes.
func TestBatchSmallerThanWorkersAndGrowingBatch(t *testing.T) {
	x, y := randomRows(1, 2, 6, 4)
	big, by := randomRows(2, 23, 6, 4)
	m := newModel(t, "6-16:relu:dropout=0.2-4:softmax")
	ref := m.Clone()
	opt, _ := optim.New[float64](optim.Defaults(optim.Adam), len(m.Params))
	refOpt, _ := optim.New[float64](optim.Defaults(optim.Adam), len(m.Params))
	tr, _ := New(m, opt, Config{Workers: 5, Loss: model.CrossEntropy, Seed: 4})
	refTr, _ := New(ref, refOpt, Config{Workers: 5, Loss: model.CrossEntropy, Seed: 4})
	if sr, err := tr.Step(context.Background(), x, y, 2); err != nil || sr.Samples != 2 {
		t.Fatalf("batch of 2 on 5 workers: %v %+v", err, sr)
	}
	if _, err := refTr.Step(context.Background(), big, by, 23); err != nil { // sizes refTr for 23 rows
		t.Fatal(err)
	}
	copy(ref.Params, m.Params)
	if err := refOpt.LoadState(opt.State()); err != nil {
		t.Fatal(err)
	}
	got, err := tr.Step(context.Background(), big, by, 23)
	if err != nil || got.Samples != 23 {
		t.Fatalf("a batch of 23 after one of 2: %v %+v", err, got)
	}
	want, _ := refTr.Step(context.Background(), big, by, 23)
	if got.Loss != want.Loss || !slices.Equal(m.Params, ref.Params) {
		t.Fatalf("the grown trainer's step: loss %v, the sized one's %v; weights equal %v", got.Loss, want.Loss, slices.Equal(m.Params, ref.Params))
	}
}

func TestEarlyStoppingRestoresBest(t *testing.T) {
	epochs := 0
	tr, res, err := fitDigits(t, 2, FitConfig{Epochs: 30, Patience: 2, RestoreBest: true, OnEpoch: func(EpochInfo) error { epochs++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.EarlyStopped {
		t.Fatalf("no early stop in %d epochs (Adam at lr 0.01 overfits the digits within a few)", epochs)
	}
	if res.BadEpochs != 2 || epochs != res.BestEpoch+2 {
		t.Fatalf("stopped after %d epochs, best %d, bad %d", epochs, res.BestEpoch, res.BadEpochs)
	}
	_, val := digitsSplit(t)
	m, _ := tr.Evaluate(context.Background(), val, 64)
	if math.Abs(m.Loss-res.BestValLoss) > 1e-6 {
		t.Fatalf("restored weights give validation loss %v, best was %v", m.Loss, res.BestValLoss)
	}
}

func TestEvaluateConfusion(t *testing.T) {
	_, val := digitsSplit(t)
	m, _ := model.New[float32](model.MustParseSpec("64-10:softmax"), 1)
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
	tr, _ := New(m, opt, Config{Workers: 3, Loss: model.CrossEntropy})
	met, err := tr.Evaluate(context.Background(), val, 50)
	if err != nil {
		t.Fatal(err)
	}
	var total, diag int64
	for i, row := range met.Confusion {
		for j, c := range row {
			total += c
			if i == j {
				diag += c
			}
		}
	}
	if total != int64(val.N) || math.Abs(float64(diag)/float64(total)-met.Accuracy) > 1e-12 {
		t.Fatalf("confusion total %d diag %d accuracy %v over %d", total, diag, met.Accuracy, val.N)
	}
}

func TestConfigRejects(t *testing.T) {
	m := newModel(t, "6-4:softmax")
	opt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(m.Params))
	for _, c := range []Config{
		{Workers: -1, Loss: model.CrossEntropy},
		{Workers: 1, Loss: model.BCE},
		{Workers: 1, Loss: model.CrossEntropy, ClipNorm: -1},
	} {
		if _, err := New(m, opt, c); err == nil {
			t.Errorf("New accepted %+v", c)
		}
	}
	// The batch size is Fit's and Evaluate's.
	blobs := newModel(t, "2-3:softmax")
	blobsOpt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(blobs.Params))
	tr, _ := New(blobs, blobsOpt, Config{Workers: 1, Loss: model.CrossEntropy})
	ds, _ := data.Synthetic("blobs", 20, 1)
	for _, b := range []int{0, -1} {
		if _, err := tr.Fit(context.Background(), ds, nil, FitConfig{Epochs: 1, BatchSize: b}); err == nil || !strings.Contains(err.Error(), "BatchSize") {
			t.Errorf("Fit with batch size %d: %v", b, err)
		}
		if _, err := tr.Evaluate(context.Background(), ds, b); err == nil || !strings.Contains(err.Error(), "batch size") {
			t.Errorf("Evaluate with batch size %d: %v", b, err)
		}
	}
	// A schedule by epochs needs Fit's epoch length.
	oc := optim.Defaults(optim.SGD)
	oc.Schedule = optim.Schedule{Kind: optim.Cosine, Epochs: 2}
	cosOpt, _ := optim.New[float64](oc, len(blobs.Params))
	cos, _ := New(blobs, cosOpt, Config{Workers: 1, Loss: model.CrossEntropy})
	if _, err := cos.Fit(context.Background(), ds, nil, FitConfig{Epochs: 1, BatchSize: 4}); err == nil || !strings.Contains(err.Error(), "StepsPerEpoch") {
		t.Errorf("Fit with a cosine schedule of no epoch length: %v", err)
	}
	oc.Schedule.StepsPerEpoch = FitConfig{BatchSize: 4}.StepsPerEpoch(ds)
	_ = cosOpt.SetSchedule(oc.Schedule)
	if _, err := cos.Fit(context.Background(), ds, nil, FitConfig{Epochs: 1, BatchSize: 4}); err != nil {
		t.Errorf("Fit with a cosine schedule of its epoch length: %v", err)
	}
	if blobsOpt.Steps() != 0 || cosOpt.Steps() != 5 {
		t.Errorf("refused Fits took %d and %d steps", blobsOpt.Steps(), cosOpt.Steps()-5)
	}
}

func TestPanicInRunStopsTheWorkers(t *testing.T) {
	m := newModel(t, "6-4:softmax")
	opt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(m.Params))
	tr, _ := New(m, opt, Config{Workers: 3, Loss: model.CrossEntropy})
	defer func() {
		if recover() == nil {
			t.Fatal("the panic did not propagate")
		}
		// goleak (TestMain) fails the package if a worker is still running.
	}()
	_ = tr.Run(context.Background(), func(*Session[float64]) error { panic("boom") })
}

// Workers with no rows finish a phase at once and can be back asleep while
// the coordinator's wakeAll for that phase is still walking the workers.
// Here a worker asleep after a phase is sent that phase's wake-up token
// again, as such a late wakeAll does. It
// must go back to sleep without running anything, so no report arrives.
func TestStaleWakeUpRunsNothing(t *testing.T) {
	m := newModel(t, testSpec)
	opt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(m.Params))
	tr, err := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	asleep := func(s *Session[float64]) {
		t.Helper()
		wk := s.workers[0]
		for i := 0; !(wk.sleeping.Load() && len(wk.wake) == 0); i++ {
			if i == 1e7 {
				t.Fatal("worker 1 never went to sleep")
			}
			runtime.Gosched()
		}
	}
	err = tr.Run(context.Background(), func(s *Session[float64]) error {
		if err := s.allReduce(); err != nil {
			return err
		}
		asleep(s)
		s.wakeAll() // the stale token: the generation has not moved
		asleep(s)
		if n := len(s.done); n != 0 {
			t.Errorf("a stale wake-up made worker 1 run its last phase again (%d reports)", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFitLeavesConfigAndTracksTheBestWithoutASentinel: Fit does not write
// the caller's Config, and a run resumed after epochs without validation
// (BestValLoss left at its zero value) takes its first validation loss as
// the best — a zero BestValLoss once meant "unset" at the start only, so
// such a run saw no improvement ever and stopped early.
func TestFitLeavesConfigAndTracksTheBestWithoutASentinel(t *testing.T) {
	train, val := digitsSplit(t)
	m, _ := model.New[float32](model.MustParseSpec("64-16:relu-10:softmax"), 1)
	opt, _ := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
	tr, _ := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy})
	before := tr.cfg
	res, err := tr.Fit(context.Background(), train, val, FitConfig{Epochs: 3, BatchSize: 64, Patience: 1, Start: Progress{Epoch: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if res.EarlyStopped || res.BestEpoch < 2 {
		t.Errorf("resumed at epoch 1: %+v, early stopped %v", res.Progress, res.EarlyStopped)
	}
	if tr.cfg != before || opt.Config() != optim.Defaults(optim.Adam) {
		t.Errorf("Fit wrote the Config (%+v, was %+v) or the optimizer's (%+v)", tr.cfg, before, opt.Config())
	}
}
