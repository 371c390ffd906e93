package health

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// diagnose trains spec on ds and returns the run's warnings (and how much
// of the training set it classifies right at the end).
func diagnose(t *testing.T, ds *data.Dataset, spec string, init model.Init, oc optim.Config, sched optim.Schedule, batch, epochs int) ([]Warning, float64) {
	t.Helper()
	m, err := model.NewZero[float32](model.MustParseSpec(spec))
	if err != nil {
		t.Fatal(err)
	}
	_ = m.Initialize(1, init)
	oc.Schedule = sched
	oc.Schedule.StepsPerEpoch = parallel.FitConfig{BatchSize: batch}.StepsPerEpoch(ds)
	opt, _ := optim.New[float32](oc, len(m.Params))
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 2, Loss: model.DefaultLoss(m.Spec), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var seen []Warning
	watch := NewWatch(func(w Warning) { seen = append(seen, w) })
	_, err = tr.Fit(context.Background(), ds, nil, watch.Hooks(parallel.FitConfig{Epochs: epochs, BatchSize: batch, Shuffle: true, Seed: 1}))
	var nf *parallel.NonFiniteError
	if err != nil && !errors.As(err, &nf) {
		t.Fatal(err)
	}
	watch.Stopped(err)
	if len(seen) != len(watch.Warnings()) {
		t.Errorf("the Watch's callback saw %d warnings, Warnings has %d", len(seen), len(watch.Warnings()))
	}
	codes := map[string]bool{}
	for _, w := range watch.Warnings() {
		if codes[w.Code] {
			t.Errorf("%s raised twice", w.Code)
		}
		codes[w.Code] = true
		t.Logf("%s [%s] %s: %s", spec, w.Code, w.Layer, w.Message)
	}
	ev, err := tr.Evaluate(context.Background(), ds, batch)
	if err != nil {
		t.Fatal(err)
	}
	return watch.Warnings(), ev.Accuracy
}

func digitsTrain(t *testing.T) *data.Dataset {
	ds, err := data.Digits()
	if err != nil {
		t.Fatal(err)
	}
	train, _, err := ds.Split(0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	return train
}

// deepSpec is 64 inputs, 8 hidden layers of 32 units with act, 10 classes.
func deepSpec(act string) string {
	return "64" + strings.Repeat("-32:"+act, 8) + "-10:softmax"
}

func find(ws []Warning, code string) *Warning {
	for i := range ws {
		if ws[i].Code == code {
			return &ws[i]
		}
	}
	return nil
}

func TestDeepSigmoidGetsVanishingGradientReLUNone(t *testing.T) {
	train := digitsTrain(t)
	sgd := optim.Defaults(optim.SGD)
	ws, acc := diagnose(t, train, deepSpec("sigmoid"), model.XavierUniform, sgd, optim.Schedule{}, 64, 10)
	w := find(ws, WarnVanishing)
	if w == nil || w.Layer != "dense.0" || w.Epoch != 1 || !strings.Contains(w.Message, "ReLU") {
		t.Errorf("8 sigmoid layers, Xavier, SGD: want vanishing-gradient naming dense.0 in epoch 1 with advice; got %+v", ws)
	}
	if len(ws) != 1 {
		t.Errorf("want only vanishing-gradient, got %d warnings", len(ws))
	}
	if acc > 0.3 {
		t.Errorf("the deep sigmoid net classifies %.0f%% of its training set: the example of a net that does not learn has stopped being one", 100*acc)
	}
	ws, acc = diagnose(t, train, deepSpec("relu"), model.HeUniform, sgd, optim.Schedule{}, 64, 30)
	if len(ws) != 0 {
		t.Errorf("8 ReLU layers, He, SGD: want no warnings, got %+v", ws)
	}
	if acc < 0.7 {
		t.Errorf("the deep ReLU net classifies only %.0f%% of its training set after 30 epochs", 100*acc)
	}
}

func TestLearningRate5GetsExplodingGradient(t *testing.T) {
	sgd := optim.Defaults(optim.SGD)
	sgd.LR = 5
	ws, _ := diagnose(t, digitsTrain(t), "64-128:relu-10:softmax", model.InitAuto, sgd, optim.Schedule{}, 64, 3)
	w := find(ws, WarnExploding)
	if w == nil || w.Epoch != 1 || w.Step > 10 || !strings.HasPrefix(w.Layer, "dense.") || !strings.Contains(w.Message, "-lr") {
		t.Errorf("SGD at lr 5: want exploding-gradient within the first 10 steps, naming a layer, with advice; got %+v", ws)
	}
	if find(ws, WarnVanishing) != nil {
		t.Error("the dead units' small gradients were reported as vanishing gradients too")
	}
}

// The README's digits recipe (ptrain train's defaults) raises nothing.
func TestDigitsDefaultRecipeHasNoWarnings(t *testing.T) {
	ws, acc := diagnose(t, digitsTrain(t), "64-128:relu-10:softmax", model.InitAuto, optim.Defaults(optim.Adam), optim.Schedule{}, 64, 30)
	if len(ws) != 0 || acc < 0.95 {
		t.Errorf("digits default recipe: %d warnings (%+v), training accuracy %.3f", len(ws), ws, acc)
	}
}

// The README's MNIST recipes raise nothing. Set PTRAIN_MNIST=DIR to run
// them (20 epochs each: minutes on 2 cores).
func TestMNISTRecipesHaveNoWarnings(t *testing.T) {
	dir := os.Getenv("PTRAIN_MNIST")
	if dir == "" {
		t.Skip("set PTRAIN_MNIST to the MNIST directory (../shared/datasets/mnist from the repository root)")
	}
	train, _, err := data.LoadMNIST(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	mom := optim.Defaults(optim.Momentum)
	mom.LR = 0.05
	cos, _ := optim.ParseSchedule("cosine")
	cos.Epochs = 20
	ws, _ := diagnose(t, train, "784-256:relu-128:relu-10:softmax", model.InitAuto, mom, cos, 128, 20)
	if len(ws) != 0 {
		t.Errorf("MNIST momentum recipe: %+v", ws)
	}
	ws, _ = diagnose(t, train, "784-256:relu:dropout=0.2-128:relu:dropout=0.2-10:softmax", model.InitAuto, optim.Defaults(optim.Adam), optim.Schedule{}, 128, 20)
	if len(ws) != 0 {
		t.Errorf("MNIST Adam recipe: %+v", ws)
	}
}

// The exploding-gradient rule on made-up steps: growth needs large
// updates with it, a zero gradient is no baseline, and a non-finite stop
// names the parameter's layer.
func TestMonitorExplodingRule(t *testing.T) {
	step := func(m *Monitor, i int64, g, upd float64) []Warning {
		return m.Step(1, parallel.StepResult{Step: i, GradNorm: g, LR: 0.1, Layers: []parallel.LayerStats{{Layer: "dense.0", GradNorm: g / 2, UpdateRatio: upd}, {Layer: "dense.1", GradNorm: g, UpdateRatio: upd / 2}}})
	}
	m := NewMonitor()
	for i, g := range []float64{0, 1, 0, 50, 0.001, 500, 20} { // spikes with small updates, zero gradients
		if ws := step(m, int64(i+1), g, 1e-3); len(ws) != 0 {
			t.Fatalf("step %d: %+v", i+1, ws)
		}
	}
	m = NewMonitor()
	step(m, 1, 1, 0.5)
	step(m, 2, 5, 2)
	ws := step(m, 3, 12, 3)
	if len(ws) != 1 || ws[0].Code != WarnExploding || ws[0].Layer != "dense.1" || ws[0].Step != 3 || !strings.Contains(ws[0].Message, "from 1 to 12") {
		t.Fatalf("12x growth with updates of 3x the weights: %+v", ws)
	}
	if ws := step(m, 4, 100, 5); len(ws) != 0 {
		t.Errorf("raised twice: %+v", ws)
	}
	m = NewMonitor() // without layer figures (Config.NoLayerStats) growth alone decides
	for i, g := range []float64{1, 100, 1e3, 2e4} {
		ws := m.Step(1, parallel.StepResult{Step: int64(i + 1), GradNorm: g})
		if len(ws) != 0 != (g == 2e4) {
			t.Errorf("no layer figures, norm %v after 1: %+v", g, ws)
		}
	}
	m = NewMonitor()
	step(m, 1, 1, 1e-3)
	ws = m.NonFinite(&parallel.NonFiniteError{Step: 2, Param: 7, Name: "conv.3.weight[0, 1, 2, 2]", Value: math.NaN()})
	if len(ws) != 1 || ws[0].Layer != "conv.3" || ws[0].Step != 2 {
		t.Errorf("non-finite stop: %+v", ws)
	}
}

// diagnoseModel is diagnose for a model prepared by the caller.
func diagnoseModel(t *testing.T, m *model.Model[float32], oc optim.Config, epochs int) []Warning {
	t.Helper()
	opt, _ := optim.New[float32](oc, len(m.Params))
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 2, Loss: model.CrossEntropy, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	watch := NewWatch(nil)
	if _, err := tr.Fit(context.Background(), digitsTrain(t), nil, watch.Hooks(parallel.FitConfig{Epochs: epochs, BatchSize: 64, Shuffle: true, Seed: 1})); err != nil {
		t.Fatal(err)
	}
	for _, w := range watch.Warnings() {
		t.Logf("[%s] %s: %s", w.Code, w.Layer, w.Message)
	}
	return watch.Warnings()
}

// Saturated sigmoid units, dead ReLU units and a learning rate far too
// low are each named, with the layer.
func TestSaturationDeadReLUAndLowUpdatesAreNamed(t *testing.T) {
	sgd := optim.Defaults(optim.SGD)

	m, _ := model.NewZero[float32](model.MustParseSpec("64-32:tanh-32:sigmoid-10:softmax"))
	_ = m.Initialize(1, model.InitAuto)
	w1, _ := denseParams(m, 1)
	for i := range w1 {
		w1[i] *= 40 // pre-activations of tens: saturated
	}
	ws := diagnoseModel(t, m, sgd, 2)
	if w := find(ws, WarnSaturation); w == nil || w.Layer != "dense.1" || !strings.Contains(w.Message, "sigmoid") {
		t.Errorf("want saturation on dense.1: %+v", ws)
	}

	m, _ = model.NewZero[float32](model.MustParseSpec("64-32:relu-10:softmax"))
	_ = m.Initialize(1, model.InitAuto)
	_, b0 := denseParams(m, 0)
	for u := range 28 {
		b0[u] = -50 // 28 of 32 units never fire: dead for good
	}
	ws = diagnoseModel(t, m, sgd, 2)
	if w := find(ws, WarnDeadReLU); w == nil || w.Layer != "dense.0" || len(ws) != 1 {
		t.Errorf("want dead-relu on dense.0 alone: %+v", ws)
	}

	m, _ = model.NewZero[float32](model.MustParseSpec("64-32:relu-10:softmax"))
	_ = m.Initialize(1, model.InitAuto)
	sgd.LR = 1e-7
	ws = diagnoseModel(t, m, sgd, 2)
	if w := find(ws, WarnUpdate); w == nil || !strings.Contains(w.Message, "too low") || len(ws) != 1 {
		t.Errorf("SGD at lr 1e-7: want update-ratio (too low) alone: %+v", ws)
	}
}

// denseParams returns dense layer l's weight (Out, In) and bias: views of
// m.Params, from the layout.
func denseParams[T num.Float](m *model.Model[T], l int) (w, b []T) {
	ps := m.Layout.Layers[l].Params
	return m.Params[ps[0].Offset : ps[0].Offset+ps[0].Size()], m.Params[ps[1].Offset : ps[1].Offset+ps[1].Size()]
}

// The Watch judges an epoch before the caller's OnEpoch runs, which reads
// that epoch's warnings (and only that epoch's) from Epoch; OnStep still
// runs after every step.
func TestWatchRunsBeforeTheCallersHooks(t *testing.T) {
	m, _ := model.NewZero[float32](model.MustParseSpec(deepSpec("sigmoid")))
	_ = m.Initialize(1, model.XavierUniform)
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 2, Loss: model.CrossEntropy, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var perEpoch [][]string
	steps := 0
	watch := NewWatch(nil)
	_, err = tr.Fit(context.Background(), digitsTrain(t), nil, watch.Hooks(parallel.FitConfig{Epochs: 2, BatchSize: 64, Shuffle: true, Seed: 1,
		OnStep: func(parallel.StepInfo) error { steps++; return nil },
		OnEpoch: func(parallel.EpochInfo) error {
			var codes []string
			for _, w := range watch.Epoch() {
				codes = append(codes, w.Code)
			}
			perEpoch = append(perEpoch, codes)
			return nil
		}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(perEpoch) != 2 || len(perEpoch[0]) != 1 || perEpoch[0][0] != WarnVanishing || len(perEpoch[1]) != 0 {
		t.Errorf("warnings per epoch %v, want [[%s] []]", perEpoch, WarnVanishing)
	}
	if want := 2 * ((digitsTrain(t).N + 63) / 64); steps != want {
		t.Errorf("OnStep ran %d times, want %d", steps, want)
	}
	if len(watch.Warnings()) != 1 {
		t.Errorf("Warnings %+v, want the one vanishing-gradient", watch.Warnings())
	}
}
