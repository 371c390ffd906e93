package health

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// event is one hook call of a Fit: a step or an epoch.
type event struct {
	step  *parallel.StepInfo
	epoch *parallel.EpochInfo
}

// divergingRun records the hook calls of SGD at lr 5 on the digits, which
// raises exploding-gradient in the middle of epoch 1 and other warnings
// at epochs' ends.
func divergingRun(t *testing.T) []event {
	t.Helper()
	m, err := model.NewZero[float32](model.MustParseSpec("64-128:relu-10:softmax"))
	if err != nil {
		t.Fatal(err)
	}
	_ = m.Initialize(1, model.InitAuto)
	sgd := optim.Defaults(optim.SGD)
	sgd.LR = 5
	opt, _ := optim.New[float32](sgd, len(m.Params))
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 2, Loss: model.DefaultLoss(m.Spec), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var evs []event
	_, err = tr.Fit(context.Background(), digitsTrain(t), nil, parallel.FitConfig{Epochs: 3, BatchSize: 64, Shuffle: true, Seed: 1,
		OnStep: func(s parallel.StepInfo) error {
			s.Layers = slices.Clone(s.Layers) // the trainer's buffer
			evs = append(evs, event{step: &s})
			return nil
		},
		OnEpoch: func(e parallel.EpochInfo) error {
			e.Layers = slices.Clone(e.Layers)
			evs = append(evs, event{epoch: &e})
			return nil
		},
	})
	var nf *parallel.NonFiniteError
	if err != nil && !errors.As(err, &nf) {
		t.Fatal(err)
	}
	return evs
}

// replay feeds evs to a Watch as Fit would. Before event cut (or, when
// within, inside the hook of event cut, which must be an epoch's, as
// ptrain's checkpoint after an epoch is), the Watch's state is saved and
// the rest of the run goes to a new Watch restored from it: a run
// interrupted there and resumed from its checkpoint. It returns the
// warnings each epoch's hook saw, and every warning of the run.
func replay(t *testing.T, evs []event, cut int, within bool) ([]string, []Warning) {
	t.Helper()
	var called []Warning // by the callbacks, old and new Watch
	on := func(x Warning) { called = append(called, x) }
	cur := NewWatch(on)
	resume := func() {
		b, err := json.Marshal(cur)
		if err != nil {
			t.Fatal(err)
		}
		cur = NewWatch(on)
		if err := json.Unmarshal(b, cur); err != nil {
			t.Fatalf("cut at event %d: %v", cut, err)
		}
	}
	var rows []string
	for i, ev := range evs {
		if i == cut && !within {
			resume()
		}
		w := cur
		cfg := w.Hooks(parallel.FitConfig{OnEpoch: func(parallel.EpochInfo) error {
			var codes []string
			for _, x := range w.Epoch() {
				codes = append(codes, x.Code)
			}
			rows = append(rows, strings.Join(codes, ";"))
			if i == cut && within {
				resume()
			}
			return nil
		}})
		if ev.step != nil {
			_ = cfg.OnStep(*ev.step)
		} else {
			_ = cfg.OnEpoch(*ev.epoch)
		}
	}
	if all := cur.Warnings(); !slices.Equal(called, all) {
		t.Errorf("cut at event %d: the callbacks saw %v, Warnings has %v", cut, called, all)
	}
	return rows, cur.Warnings()
}

// A Watch restored from the state of an interrupted run, at any step or
// epoch's end, reports every epoch's warnings as the uninterrupted run's
// Watch does: nothing raised twice, nothing raised before the cut lost
// from its epoch's report.
func TestWatchStateResumesTheRunsDiagnosis(t *testing.T) {
	evs := divergingRun(t)
	wantRows, wantAll := replay(t, evs, -1, false)
	if len(wantAll) < 2 || wantAll[0].Code != WarnExploding || wantRows[0] == WarnExploding {
		t.Fatalf("the run raised %v (epochs: %q): want exploding-gradient mid-epoch, and more at an epoch's end", wantAll, wantRows)
	}
	for cut := range evs {
		within := evs[cut].epoch != nil
		rows, all := replay(t, evs, cut, within)
		if !slices.Equal(rows, wantRows) || !slices.Equal(all, wantAll) {
			t.Fatalf("cut at event %d (within its hook %v): epochs' warnings %q, want %q; run's %v, want %v", cut, within, rows, wantRows, all, wantAll)
		}
	}
}

func TestMonitorStateRoundTrip(t *testing.T) {
	evs := divergingRun(t)
	a, b := NewMonitor(), NewMonitor()
	for i, ev := range evs {
		if i == len(evs)/2 {
			s, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(s, b); err != nil {
				t.Fatal(err)
			}
		}
		var wa, wb []Warning
		if ev.step != nil {
			wa, wb = a.Step(ev.step.Epoch+1, ev.step.StepResult), b.Step(ev.step.Epoch+1, ev.step.StepResult)
		} else {
			wa, wb = a.Epoch(*ev.epoch), b.Epoch(*ev.epoch)
		}
		if i >= len(evs)/2 && !slices.Equal(wa, wb) {
			t.Fatalf("event %d: the restored monitor raised %v, the original %v", i, wb, wa)
		}
	}
}

// A state no Watch could reach is refused, naming what is wrong, and
// leaves the Watch as it was.
func TestWatchStateRefusesImpossible(t *testing.T) {
	ring := `"recent_bits":[0,0,0,0,0,0,0,0,0,0]`
	for _, c := range []struct{ state, want string }{
		{`{"raised":[],"recent_bits":[0],"steps":1}`, "1 recent gradient norms, want 10"},
		{`{"raised":[],` + ring + `,"steps":-1}`, "must be ≥ 0"},
		{`{"raised":[],` + ring + `,"steps":9223372036854775807}`, "more than the limit"},
		{`{"raised":["bogus"],` + ring + `}`, `raised "bogus": not a warning code`},
		{`{"raised":["dead-relu","dead-relu"],` + ring + `}`, "or twice"},
		{`{"raised":[],` + ring + `,"warnings":[{"code":"dead-relu"}]}`, "warning \"dead-relu\": not raised"},
		{`{"raised":["dead-relu"],` + ring + `,"warnings":[{"code":"dead-relu"}],"current":2}`, "2 warnings of the current epoch, of 1"},
		{`{"raised":["dead-relu"],` + ring + `,"warnings":[{"code":"dead-relu","message":"` + strings.Repeat("x", maxStateMessage+1) + `"}]}`, "more than the limits"},
		{`[]`, "health state: json: cannot unmarshal"},
	} {
		w := NewWatch(nil)
		w.all = []Warning{{Code: WarnUpdate}}
		err := json.Unmarshal([]byte(c.state), w)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.80s: got %v, want an error with %q", c.state, err, c.want)
		}
		if len(w.all) != 1 {
			t.Errorf("%.80s: the refused state changed the Watch", c.state)
		}
	}
}

// A state that UnmarshalJSON accepts is one the monitor can go on from:
// steps after it neither panic nor wrap its step count (a hostile
// checkpoint's "steps" of 2⁶³−1 made the second step index the ring at a
// negative position).
func TestMonitorStateAcceptedTakesSteps(t *testing.T) {
	ring := `"recent_bits":[0,0,0,0,0,0,0,0,0,0]`
	for _, s := range []string{
		`{"raised":[],` + ring + `,"steps":9223372036854775807}`,
		`{"raised":[],` + ring + `,"steps":9223372036854775806,"last_step":9223372036854775807}`,
	} {
		var m Monitor
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			continue // refused: nothing to go on from
		}
		for i := range 3 {
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%.80s: step %d after it panics: %v", s, i+1, p)
					}
				}()
				m.Step(1, parallel.StepResult{Step: int64(i + 1), GradNorm: 1, LR: 0.1})
			}()
		}
		if m.n < 0 {
			t.Errorf("%.80s: the step count wrapped to %d", s, m.n)
		}
	}
}

func FuzzWatchState(f *testing.F) {
	w := NewWatch(nil)
	w.mon.Step(1, parallel.StepResult{Step: 1, GradNorm: 2, LR: 0.1, Layers: []parallel.LayerStats{{Layer: "dense.0", GradNorm: 1}}})
	w.add(w.mon.raise(nil, WarnDeadReLU, "dense.0", "dead"))
	b, _ := json.Marshal(w)
	f.Add(b)
	f.Add([]byte(`{"raised":[],"recent_bits":[0,0,0,0,0,0,0,0,0,0]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var w Watch
		if err := json.Unmarshal(b, &w); err != nil {
			return
		}
		// Accepted: its state reads back as itself.
		s, err := json.Marshal(&w)
		if err != nil {
			t.Fatal(err)
		}
		var r Watch
		if err := json.Unmarshal(s, &r); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if s2, _ := json.Marshal(&r); string(s2) != string(s) {
			t.Fatalf("%s read back as %s", s, s2)
		}
		// And the monitor goes on from it.
		for i := range 2 {
			r.mon.Step(1, parallel.StepResult{Step: int64(i + 1), GradNorm: 1, LR: 0.1})
		}
	})
}
