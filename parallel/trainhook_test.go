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

// trainhook.Timeline records every phase of the steps taken while it
// runs, in order, each worker's end within its phase's, up to the number
// asked for, and nothing after it is stopped.
func TestTrainhookTimelineRecordsThePhases(t *testing.T) {
	m := newModel(t, testSpec)
	opt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(m.Params))
	tr, err := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	x, y := randomRows(3, 8, m.Spec.Inputs, m.Spec.Outputs())
	err = tr.Run(context.Background(), func(s *Session[float64]) error {
		step := func() error {
			_, err := s.Step(Batch[float64]{X: x, Y: y, N: 8})
			return err
		}
		stop := trainhook.Timeline(s, 100)
		for range 3 {
			if err := step(); err != nil {
				return err
			}
		}
		recs := stop()
		if err := step(); err != nil { // not recorded
			return err
		}
		if len(recs) != 9 {
			t.Fatalf("%d phases recorded in 3 steps, want 9", len(recs))
		}
		for i, r := range recs {
			if want := []int{0, 1, 3}[i%3]; r.Phase != want {
				t.Errorf("record %d: phase %d, want %d", i, r.Phase, want)
			}
			for w, e := range r.End {
				if e <= 0 || e > r.Wall {
					t.Errorf("record %d: worker %d ended at %v, the phase at %v", i, w, e, r.Wall)
				}
			}
		}
		stop = trainhook.Timeline(s, 4)
		for range 2 {
			if err := step(); err != nil {
				return err
			}
		}
		if recs := stop(); len(recs) != 4 {
			t.Errorf("%d phases recorded with room for 4", len(recs))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTrainhookTimelinePanicsOnANonSession(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("trainhook.Timeline on a non-session did not panic")
		}
	}()
	_ = trainhook.Timeline(1, 10)
}

// A step allocates nothing while trainhook.Timeline records it (the
// records are allocated when the recording starts), nor after it stops.
func TestTrainhookTimelineAllocatesNothing(t *testing.T) {
	m := newModel(t, testSpec)
	opt, _ := optim.New[float64](optim.Defaults(optim.Adam), len(m.Params))
	tr, err := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	x, y := randomRows(3, 8, m.Spec.Inputs, m.Spec.Outputs())
	err = tr.Run(context.Background(), func(s *Session[float64]) error {
		step := func() { _, _ = s.Step(Batch[float64]{X: x, Y: y, N: 8}) }
		step() // warm-up
		stop := trainhook.Timeline(s, 100)
		if n := testing.AllocsPerRun(10, step); n != 0 {
			t.Errorf("%v allocations per recorded step", n)
		}
		if recs := stop(); len(recs) != 33 { // 11 steps (AllocsPerRun's warm-up too) of 3 phases
			t.Errorf("%d phases recorded, want 33", len(recs))
		}
		if n := testing.AllocsPerRun(10, step); n != 0 {
			t.Errorf("%v allocations per step after the recording", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
