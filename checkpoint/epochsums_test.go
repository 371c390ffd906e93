package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// An epoch interrupted inside it — after its third step, or after its
// last — saved, loaded and resumed reports what the uninterrupted run
// reported for it: the same train loss, accuracy, samples, learning rate
// and per-layer summaries (the running sums travel in ptrain.progress),
// not the figures of the steps after the resume alone.
func TestResumedEpochReportsTheWholeEpoch(t *testing.T) {
	ds, err := data.Digits()
	if err != nil {
		t.Fatal(err)
	}
	train, val, err := ds.Split(0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	newRun := func() (*model.Model[float64], *optim.Optimizer[float64], *parallel.Trainer[float64]) {
		m, _ := model.New[float64](model.MustParseSpec("64-12:relu-10:softmax"), 3)
		opt, _ := optim.New[float64](optim.Defaults(optim.Adam), len(m.Params))
		tr, err := parallel.New(m, opt, parallel.Config{Workers: 2, Loss: model.CrossEntropy})
		if err != nil {
			t.Fatal(err)
		}
		return m, opt, tr
	}
	type row struct {
		Epoch         int
		Loss, Acc, LR float64
		Samples       int
		GradNorm      parallel.Summary
		Layers        []parallel.LayerSummary
		ValLoss       float64
	}
	rows := func(infos []parallel.EpochInfo) []row {
		var out []row
		for _, e := range infos {
			out = append(out, row{e.Epoch, e.TrainLoss, e.TrainAccuracy, e.LR, e.Samples, e.GradNorm, e.Layers, e.Val.Loss})
		}
		return out
	}
	fit := func(tr *parallel.Trainer[float64], ctx context.Context, start parallel.Progress, stopAt int, cancel func()) ([]parallel.EpochInfo, parallel.Progress, error) {
		var infos []parallel.EpochInfo
		steps := 0
		res, err := tr.Fit(ctx, train, val, parallel.FitConfig{Epochs: 3, BatchSize: 50, Shuffle: true, Start: start,
			OnEpoch: func(e parallel.EpochInfo) error { infos = append(infos, e); return nil },
			OnStep: func(s parallel.StepInfo) error {
				if steps++; steps == stopAt {
					cancel()
				}
				return nil
			}})
		return infos, res.Progress, err
	}
	_, _, whole := newRun()
	want, _, err := fit(whole, context.Background(), parallel.Progress{BestValLoss: math.Inf(1)}, -1, func() {})
	if err != nil {
		t.Fatal(err)
	}
	steps := parallel.FitConfig{BatchSize: 50}.StepsPerEpoch(train)
	for _, stop := range []int{steps + 3, 2 * steps} { // inside epoch 2, after its last step
		m, opt, tr := newRun()
		ctx, cancel := context.WithCancel(context.Background())
		before, p, err := fit(tr, ctx, parallel.Progress{BestValLoss: math.Inf(1)}, stop, cancel)
		if !errors.Is(err, context.Canceled) || p.Epoch != 1 || p.Batch != stop-steps || p.Sums == nil || tr.Progress().Sums == nil {
			t.Fatalf("stopped after step %d: %v, progress %+v", stop, err, p)
		}
		path := filepath.Join(t.TempDir(), "c.safetensors")
		if err := Save(path, &Checkpoint[float64]{Model: m, Optimizer: opt, Progress: p}); err != nil {
			t.Fatal(err)
		}
		c, err := Load[float64](path)
		if err != nil {
			t.Fatal(err)
		}
		tr2, err := parallel.New(c.Model, c.Optimizer, parallel.Config{Workers: 2, Loss: model.CrossEntropy})
		if err != nil {
			t.Fatal(err)
		}
		after, _, err := fit(tr2, context.Background(), c.Progress, -1, func() {})
		if err != nil {
			t.Fatal(err)
		}
		// Compared as text: the summaries of figures a layer has not are NaN.
		if got := rows(append(before, after...)); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", rows(want)) {
			t.Errorf("stopped after step %d of %d per epoch: the resumed run reports\n%+v\nthe uninterrupted one\n%+v", stop, steps, got[1], rows(want)[1])
		}
	}
}
