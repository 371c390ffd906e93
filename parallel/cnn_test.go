package parallel

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// cnnSpec has batch norm over channels and over features, both pools and
// dropout: every layer kind whose statistics or masks could depend on how
// a batch is sharded.
const cnnSpec = "1x6x6-conv(3,3,pad=1)-bn:relu-maxpool(2)-conv(4,2):tanh-avgpool(2)-flatten-5:relu:dropout=0.2-bn-3:softmax"

// fusedSpec's convolutions run fused with their max pooling (model's
// convPool): one with a ReLU and 2×2 windows, one without an activation
// and overlapping windows.
const fusedSpec = "1x6x6-conv(3,3,pad=1):relu-maxpool(2)-conv(4,2)-maxpool(2,stride=1)-flatten-5:relu:dropout=0.2-3:softmax"

// resNetSpec is ResNet-8 (model's ResNet8: a stem, an identity block, two
// strided blocks with projection shortcuts, gap, a dense head) narrowed to
// 3, 4 and 5 channels on 6×6 inputs, to keep float64 steps quick.
const resNetSpec = "1x6x6-conv(3,3,pad=1)-bn:relu-res(conv(3,3,pad=1)-bn:relu-conv(3,3,pad=1)-bn):relu-res(conv(4,3,stride=2,pad=1)-bn:relu-conv(4,3,pad=1)-bn|conv(4,1,stride=2)-bn):relu-res(conv(5,3,stride=2,pad=1)-bn:relu-conv(5,3,pad=1)-bn|conv(5,1,stride=2)-bn):relu-gap-3:softmax"

// TestCNNWorkersMatchSingleWorkerReference: W workers compute what one
// workspace computes on the whole batch — weights and batch norm's
// running statistics — over several steps, for batches that leave some
// workers without rows; with batch norm, with fused convolutions, and for
// a ResNet.
func TestCNNWorkersMatchSingleWorkerReference(t *testing.T) {
	for _, spec := range []string{cnnSpec, fusedSpec, resNetSpec} {
		t.Run(spec, func(t *testing.T) { workersMatchReference(t, spec) })
	}
}

func workersMatchReference(t *testing.T, spec string) {
	for _, method := range []optim.Method{optim.SGD, optim.Adam} {
		for _, n := range []int{10, 3, 2} {
			var batches [][2][]float64
			for s := range 4 {
				x, y := randomRows(uint64(s), n, 36, 3)
				batches = append(batches, [2][]float64{x, y})
			}
			cfg := optim.Defaults(method)
			cfg.LR = 0.05
			want := newModel(t, spec)
			reference(t, want, cfg, 9, batches, n)
			for _, w := range []int{1, 2, 3, 4} {
				m := stepBatches(t, spec, cfg, w, batches, n)
				if method == optim.Adam {
					// A bias right before batch norm has a gradient of
					// exactly 0 in exact arithmetic (the mean is taken
					// out), so what reaches it is rounding noise, which
					// Adam divides by its own size: there W workers and
					// one agree only to ~1e-9. Every other parameter is
					// held to 1e-10.
					for _, l := range m.Layout.Layers[:len(m.Layout.Layers)-1] {
						if m.Layout.Layers[l.Index+1].Spec.Kind == model.KindBatchNorm {
							b := l.Params[1]
							if d := maxDiff(m.Params[b.Offset:b.Offset+b.Size()], want.Params[b.Offset:b.Offset+b.Size()]); d >= 1e-8 {
								t.Errorf("%v, batch %d, %d workers: %s max |Δ| = %g", method, n, w, b.Name, d)
							}
							copy(m.Params[b.Offset:b.Offset+b.Size()], want.Params[b.Offset:])
						}
					}
				}
				if d := maxDiff(m.Params, want.Params); d >= 1e-10 {
					t.Errorf("%v, batch %d, %d workers: weights max |Δ| = %g from the reference", method, n, w, d)
				}
				tol := 1e-10
				if method == optim.Adam {
					tol = 1e-8 // running means include those biases
				}
				if d := maxDiff(m.Buffers, want.Buffers); d >= tol {
					t.Errorf("%v, batch %d, %d workers: running statistics max |Δ| = %g from the reference", method, n, w, d)
				}
			}
		}
	}
}

func maxDiff(a, b []float64) float64 {
	var worst float64
	for i := range a {
		worst = max(worst, math.Abs(a[i]-b[i]))
	}
	return worst
}

// digitsCNN fits a small CNN with batch norm on the embedded digits.
func digitsCNN(t *testing.T, workers int, cfg FitConfig) (*Trainer[float32], FitResult, error) {
	return fitDigitsSpec(t, "1x8x8-conv(8,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax", workers, cfg)
}

// digitsResNet is a small ResNet for the 8×8 digits: an identity block
// and a strided one with a projection shortcut.
const digitsResNet = "1x8x8-conv(4,3,pad=1)-bn:relu-res(conv(4,3,pad=1)-bn:relu-conv(4,3,pad=1)-bn):relu-res(conv(8,3,stride=2,pad=1)-bn:relu-conv(8,3,pad=1)-bn|conv(8,1,stride=2)-bn):relu-gap-10:softmax"

// TestCNNFitRepeatsAndResumesExactly: the same seed and W repeat bit for
// bit, a run cut mid-epoch and resumed from what a checkpoint holds
// (weights, running statistics, optimizer state, progress) ends where the
// uninterrupted one does, and the CNN learns the digits — with batch
// norm, with the convolution fused with its pooling (in float32, the
// assembly's path where there is AVX2), and for a ResNet.
func TestCNNFitRepeatsAndResumesExactly(t *testing.T) {
	for _, spec := range []string{"1x8x8-conv(8,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax", "1x8x8-conv(8,3,pad=1):relu-maxpool(2)-flatten-10:softmax", digitsResNet} {
		t.Run(spec, func(t *testing.T) {
			minAcc := 0.9
			if spec == digitsResNet {
				minAcc = 0.75 // 4 and 8 channels: kept narrow for speed, it learns more slowly
			}
			fitRepeatsAndResumes(t, minAcc, func(t *testing.T, workers int) *Trainer[float32] {
				return newDigitsSpec(t, spec, workers)
			})
		})
	}
}

// fitRepeatsAndResumes trains a fresh trainer from newCNN for 3 epochs
// (run a), and again up to a step of epoch 1 where it is cut (run b):
// b's weights and statistics must be a's at that step (the repeat), and b
// resumed in a fresh trainer from its state must end with a's (the
// resume; it also repeats a's epochs 2 and 3, shuffles included).
func fitRepeatsAndResumes(t *testing.T, minAcc float64, newCNN func(*testing.T, int) *Trainer[float32]) {
	const workers, cutEpoch, cutBatch = 3, 1, 5
	train, val := digitsSplit(t)
	var acc float64
	var atCut []float32 // a's weights, then running statistics, after the step where b is cut
	a := newCNN(t, workers)
	cfg := FitConfig{Epochs: 3, BatchSize: 64, Shuffle: true, Seed: 3}
	ac := cfg
	ac.OnEpoch = func(e EpochInfo) error { acc = e.Val.Accuracy; return nil }
	ac.OnStep = func(s StepInfo) error {
		if s.Epoch == cutEpoch && s.Batch == cutBatch {
			atCut = append(slices.Clone(a.m.Params), a.m.Buffers...)
		}
		return nil
	}
	if _, err := a.Fit(context.Background(), train, val, ac); err != nil {
		t.Fatal(err)
	}
	if acc < minAcc {
		t.Errorf("validation accuracy %v after 3 epochs, want ≥ %v", acc, minAcc)
	}
	cut := cfg
	stop := context.Canceled
	cut.OnStep = func(s StepInfo) error {
		if s.Epoch == cutEpoch && s.Batch == cutBatch {
			return stop
		}
		return nil
	}
	b := newCNN(t, workers)
	res, err := b.Fit(context.Background(), train, val, cut)
	if err != stop {
		t.Fatalf("cut run: %v", err)
	}
	if !slices.Equal(append(slices.Clone(b.m.Params), b.m.Buffers...), atCut) {
		t.Fatalf("two runs with the same seed and workers differ at epoch %d, step %d", cutEpoch, cutBatch)
	}
	resume := cfg
	resume.Start = res.Progress
	second := newCNN(t, workers)
	copy(second.m.Params, b.m.Params)
	copy(second.m.Buffers, b.m.Buffers)
	if err := second.opt.LoadState(b.opt.State()); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Fit(context.Background(), train, val, resume); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(second.m.Params, a.m.Params) || !slices.Equal(second.m.Buffers, a.m.Buffers) {
		t.Fatal("the resumed run ends with other weights or statistics than the uninterrupted one")
	}
}

// TestCNNEvaluateReadsTheModelsStatistics: a fresh trainer (ptrain eval's
// case) evaluates a trained batch-norm model with the model's running
// statistics, as the trainer that trained it does — not with its own
// staging buffers, which it has never filled.
func TestCNNEvaluateReadsTheModelsStatistics(t *testing.T) {
	a, _, err := digitsCNN(t, 2, FitConfig{Epochs: 2, Shuffle: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, val := digitsSplit(t)
	want, err := a.Evaluate(context.Background(), val, 64)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(a.m.Params))
	fresh, _ := New(a.m, opt, Config{Workers: 2, Loss: model.CrossEntropy})
	got, err := fresh.Evaluate(context.Background(), val, 50)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Loss-want.Loss) > 1e-6 || got.Accuracy != want.Accuracy {
		t.Fatalf("a fresh trainer evaluates to loss %v, accuracy %v; the training one to %v, %v", got.Loss, got.Accuracy, want.Loss, want.Accuracy)
	}
}

// TestCNNStepAllocatesNothing: a step of a CNN with batch norm (fused with
// its pooling), of one with fused convolutions, and of a ResNet, over two
// workers, barriers included, allocates nothing once warm.
func TestCNNStepAllocatesNothing(t *testing.T) {
	for _, spec := range []string{cnnSpec, fusedSpec, resNetSpec} {
		m := newModel(t, spec)
		opt, _ := optim.New[float64](optim.Defaults(optim.Adam), len(m.Params))
		tr, _ := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy, Seed: 9})
		x, y := randomRows(1, 10, 36, 3)
		err := tr.Run(context.Background(), func(s *Session[float64]) error {
			if _, err := s.Step(Batch[float64]{X: x, Y: y, N: 10}); err != nil { // warm-up
				return err
			}
			if n := testing.AllocsPerRun(10, func() { _, _ = s.Step(Batch[float64]{X: x, Y: y, N: 10}) }); n != 0 {
				t.Errorf("%s: %v allocations per step", spec, n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// panicky is a loss that panics on a sample whose first target is 1.
type panicky struct{}

func (panicky) Sample(a, y, grad []float64) float64 {
	if y[0] == 1 {
		panic("panicky: this sample")
	}
	return 0
}

var panickyLoss = model.RegisterLoss("parallel-test-panicky", panicky{})

// TestPanicWithBatchNormDoesNotHang: a panic in worker 0's share of a
// step (the coordinator's) reaches the caller even while the other
// workers wait at batch norm's barrier for a worker 0 that will never
// come (it used to spin there forever).
func TestPanicWithBatchNormDoesNotHang(t *testing.T) {
	m := newModel(t, "1x4x4-conv(2,3,pad=1)-bn:relu-flatten-3")
	opt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(m.Params))
	tr, err := New(m, opt, Config{Workers: 2, Loss: panickyLoss})
	if err != nil {
		t.Fatal(err)
	}
	x, y := make([]float64, 4*16), make([]float64, 4*3)
	y[0] = 1 // row 0: worker 0's shard
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		_, _ = tr.Step(context.Background(), x, y, 4)
	}()
	select {
	case r := <-done:
		if r == nil || !strings.Contains(fmt.Sprint(r), "panicky") {
			t.Fatalf("recovered %v, want the loss's panic", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the step hung after a panic in worker 0's share")
	}
}
