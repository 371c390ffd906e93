package parallel

import (
	"context"
	"testing"

	"github.com/ptrain/ptrain/internal/trainhook"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// trainhook.AllReduce, the benchmarks' way in, is the session's reduction:
// worker 0's buffer (from trainhook.Grads) ends as the sum of every
// worker's, in worker order.
func TestTrainhookAllReduceSumsTheWorkersGradients(t *testing.T) {
	m := newModel(t, testSpec)
	opt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(m.Params))
	tr, err := New(m, opt, Config{Workers: 3, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Run(context.Background(), func(s *Session[float64]) error {
		g := trainhook.Grads(s).([][]float64)
		want := make([]float64, len(g[0]))
		for k := range g {
			for i := range g[k] {
				g[k][i] = float64(k+1) * float64(i%7)
				want[i] += g[k][i]
			}
		}
		if err := trainhook.AllReduce(s); err != nil {
			return err
		}
		for i := range want {
			if g[0][i] != want[i] {
				t.Fatalf("element %d: %v, want %v", i, g[0][i], want[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("trainhook.AllReduce on a non-session did not panic")
		}
	}()
	_ = trainhook.AllReduce(tr)
}

func TestTrainhookGradsPanicsOnANonSession(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("trainhook.Grads on a non-session did not panic")
		}
	}()
	_ = trainhook.Grads(1)
}
