package parallel

import (
	"context"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// Under MPI every rank evaluates the whole set in batches of the global
// batch; its workers' buffers stay those of its share of a training step
// (2 ranks × 2 workers, batch 12: 3 rows each), where they grew to the
// whole batch's share of the workers (6) before. The figures are a single
// process's with 2 workers and whole parts: to the bit with ptrain's GEMM,
// whose row outputs do not depend on the rows beside them, for the losses
// that divide a sum once (MSE, BCE) as for the others.
func TestEvaluateUnderMPIKeepsTheRanksBuffers(t *testing.T) {
	train, val := digitsSplit(t)
	exact := num.OwnKernels() || !strings.Contains(num.Backend(), "OpenBLAS") // OpenBLAS computes GEMMs only on CPUs without the kernels
	for _, loss := range []model.Loss{model.CrossEntropy, model.MSE} {
		const ranks, workers, batch = 2, 2, 12
		world := newFakeWorld(ranks)
		trs := make([]*Trainer[float32], ranks)
		mets := make([]Metrics, ranks)
		errs := make([]error, ranks)
		var wg sync.WaitGroup
		for r := range ranks {
			wg.Go(func() {
				m, _ := model.New[float32](model.MustParseSpec("64-24:relu-10:softmax"), 1)
				opt, _ := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
				tr, err := New(m, opt, Config{Workers: workers, Loss: loss, Group: fakeRank{world, r}, NoLayerStats: true})
				if err == nil {
					_, err = tr.Fit(context.Background(), train, nil, FitConfig{Epochs: 1, BatchSize: batch, Shuffle: true})
				}
				if err == nil {
					mets[r], err = tr.Evaluate(context.Background(), val, batch)
				}
				trs[r], errs[r] = tr, err
			})
		}
		wg.Wait()
		for r, err := range errs {
			if err != nil {
				t.Fatalf("%v rank %d: %v", loss, r, err)
			}
			if trs[r].rows != batch/ranks/workers {
				t.Errorf("%v rank %d: the workers hold %d rows after evaluating in batches of %d, want %d", loss, r, trs[r].rows, batch, batch/ranks/workers)
			}
		}
		one, err := New(trs[0].Model().Clone(), nil, Config{Workers: workers, Loss: loss})
		if err != nil {
			t.Fatal(err)
		}
		want, err := one.Evaluate(context.Background(), val, batch)
		if err != nil {
			t.Fatal(err)
		}
		got := mets[0]
		if exact && got.Loss != want.Loss || math.Abs(got.Loss-want.Loss) > 1e-9 {
			t.Errorf("%v: loss %v on a rank, %v in one process", loss, got.Loss, want.Loss)
		}
		got.Loss = want.Loss
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: on a rank %+v, in one process %+v", loss, got, want)
		}
	}
}
