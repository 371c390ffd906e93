package optim

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

// gradSeq is the gradient fed at steps 1, 2 and 3 of every rule test.
var gradSeq = [][]float64{{0.5, -1}, {0.1, 0.2}, {-0.3, 0.4}}

// The expected parameters after each step were worked out from the formulas
// in the Method docs (PyTorch's), starting from p = (1, −2), in an
// independent script written for this test.
func TestUpdateRulesThreeSteps(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(c *Config)
		m    Method
		want [3][2]float64
	}{
		{"sgd", func(c *Config) { c.LR = 0.1 }, SGD,
			[3][2]float64{{0.95, -1.9}, {0.94, -1.92}, {0.97, -1.96}}},
		{"sgd+l2", func(c *Config) { c.LR, c.WeightDecay = 0.1, 0.5 }, SGD,
			[3][2]float64{{0.9, -1.8}, {0.845, -1.73}, {0.83275, -1.6835}}},
		{"momentum", func(c *Config) { c.LR = 0.1 }, Momentum,
			[3][2]float64{{0.95, -1.9}, {0.895, -1.83}, {0.8755, -1.807}}},
		{"nesterov", func(c *Config) { c.LR = 0.1 }, Nesterov,
			[3][2]float64{{0.905, -1.81}, {0.8455, -1.767}, {0.85795, -1.7863}}},
		// torch.optim.SGD(lr=0.1, momentum=0.9[, nesterov=True]): the same
		// figures as the named presets above.
		{"sgd momentum 0.9", func(c *Config) { c.LR, c.Momentum = 0.1, 0.9 }, SGD,
			[3][2]float64{{0.95, -1.9}, {0.895, -1.83}, {0.8755, -1.807}}},
		{"sgd nesterov", func(c *Config) { c.LR, c.Momentum, c.Nesterov = 0.1, 0.9, true }, SGD,
			[3][2]float64{{0.905, -1.81}, {0.8455, -1.767}, {0.85795, -1.7863}}},
		// SGD(lr=0.1, momentum=0.9, weight_decay=0.5): v ← 0.9v + g + 0.5p.
		{"sgd momentum+l2", func(c *Config) { c.LR, c.Momentum, c.WeightDecay = 0.1, 0.9, 0.5 }, SGD,
			[3][2]float64{{0.9, -1.8}, {0.755, -1.55}, {0.61675, -1.2875}}},
		{"rmsprop", func(c *Config) {}, RMSprop,
			[3][2]float64{{0.900000019999996, -1.900000009999999}, {0.8802934383202046, -1.9197065936215374}, {0.9313743740465428, -1.9565342567273971}}},
		{"rmsprop+momentum", func(c *Config) { c.Momentum = 0.5 }, RMSprop,
			[3][2]float64{{0.900000019999996, -1.900000009999999}, {0.8302934483202026, -1.8697065986215369}, {0.846521098206644, -1.8913875560381654}}},
		{"adam", func(c *Config) {}, Adam,
			[3][2]float64{{0.99900000002, -1.9990000000099999}, {0.9981969590638465, -1.9984889739399048}, {0.9979862461176351, -1.9983547343420813}}},
		{"adam+l2", func(c *Config) { c.LR, c.WeightDecay = 0.01, 0.1 }, Adam,
			[3][2]float64{{0.9900000001666667, -1.9900000000833333}, {0.981296786265348, -1.9833056241906861}, {0.9768336007031183, -1.9792623166380274}}},
		{"adamw", func(c *Config) { c.LR = 0.01 }, AdamW,
			[3][2]float64{{0.9899000002, -1.9898000001}, {0.9817706006384452, -1.9844907593990395}, {0.979565294116267, -1.9829499143448657}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Defaults(tc.m)
			tc.cfg(&cfg)
			o, err := New[float64](cfg, 2)
			if err != nil {
				t.Fatal(err)
			}
			p := []float64{1, -2}
			for s, g := range gradSeq {
				gc := append([]float64(nil), g...)
				o.Step(p, gc)
				for i := range p {
					if math.Abs(p[i]-tc.want[s][i]) > 1e-12 {
						t.Fatalf("step %d: p[%d] = %.17g, want %.17g", s+1, i, p[i], tc.want[s][i])
					}
					if gc[i] != g[i] {
						t.Fatalf("step %d modified the gradient", s+1)
					}
				}
			}
		})
	}
}

func TestApplyInPiecesEqualsWholeStep(t *testing.T) {
	for _, m := range []Method{SGD, Momentum, Nesterov, RMSprop, Adam, AdamW} {
		whole, _ := New[float64](Defaults(m), 5)
		parts, _ := New[float64](Defaults(m), 5)
		p1 := []float64{1, 2, 3, 4, 5}
		p2 := append([]float64(nil), p1...)
		for step := 0; step < 3; step++ {
			g := []float64{0.1, -0.2, 0.3, -0.4, float64(step)}
			whole.Step(p1, g)
			parts.Begin()
			parts.Apply(p2, g, 3, 5)
			parts.Apply(p2, g, 0, 3)
		}
		for i := range p1 {
			if p1[i] != p2[i] {
				t.Fatalf("%v: piecewise update differs at %d: %v vs %v", m, i, p1, p2)
			}
		}
	}
}

func TestStateRoundTripContinuesExactly(t *testing.T) {
	for _, m := range []Method{SGD, Momentum, RMSprop, Adam, AdamW} {
		cfg := Defaults(m)
		if m.Uses("momentum") {
			cfg.Momentum = 0.5
		}
		a, _ := New[float32](cfg, 2)
		pa := []float32{1, -2}
		a.Step(pa, []float32{0.5, -1})
		a.Step(pa, []float32{0.1, 0.2})

		b, _ := New[float32](cfg, 2)
		st := a.State()
		if err := b.LoadState(st); err != nil {
			t.Fatal(err)
		}
		pb := append([]float32(nil), pa...)
		a.Step(pa, []float32{-0.3, 0.4})
		b.Step(pb, []float32{-0.3, 0.4})
		if pa[0] != pb[0] || pa[1] != pb[1] {
			t.Fatalf("%v: resumed step %v, uninterrupted %v", m, pb, pa)
		}
	}
	o, _ := New[float64](Defaults(Adam), 3)
	if err := o.LoadState(State[float64]{Buffers: map[string][]float64{"exp_avg": make([]float64, 3)}}); err == nil {
		t.Fatal("LoadState accepted a state without exp_avg_sq")
	}
	if err := o.LoadState(State[float64]{Buffers: map[string][]float64{"exp_avg": make([]float64, 2), "exp_avg_sq": make([]float64, 3)}}); err == nil {
		t.Fatal("LoadState accepted a buffer of the wrong length")
	}
}

func TestConfigValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"negative lr", func(c *Config) { c.LR = -1 }, "learning rate"},
		{"NaN lr", func(c *Config) { c.LR = math.NaN() }, "learning rate"},
		{"momentum 1", func(c *Config) { c.Momentum = 1 }, "momentum"},
		{"beta1 1", func(c *Config) { c.Beta1 = 1 }, "beta1"},
		{"beta2 negative", func(c *Config) { c.Beta2 = -0.1 }, "beta2"},
		{"alpha 1", func(c *Config) { c.Alpha = 1 }, "alpha"},
		{"eps 0", func(c *Config) { c.Eps = 0 }, "eps"},
		{"negative decay", func(c *Config) { c.WeightDecay = -1 }, "weight decay"},
		{"nesterov with adam", func(c *Config) { c.Nesterov = true }, "nesterov applies to sgd"},
	} {
		c := Defaults(Adam)
		tc.edit(&c)
		if _, err := New[float64](c, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one about %q", tc.name, err, tc.want)
		}
	}
	c := Defaults(Nesterov)
	c.Momentum = 0
	if err := c.Validate(); err == nil {
		t.Error("nesterov without momentum accepted")
	}
	c = Defaults(SGD)
	c.Nesterov = true
	if err := c.Validate(); err == nil {
		t.Error("sgd nesterov without momentum accepted (PyTorch refuses it)")
	}
	if _, err := ParseMethod("adagrad"); err == nil {
		t.Error("unknown method accepted")
	}
}

func TestClip(t *testing.T) {
	g := []float64{3, 4}
	if n := ClipNorm(g, 1); n != 5 || math.Abs(math.Hypot(g[0], g[1])-1) > 1e-6 {
		t.Fatalf("ClipNorm: norm %v, clipped %v", n, g)
	}
	g = []float64{0.3, 0.4}
	ClipNorm(g, 1)
	if g[0] != 0.3 || g[1] != 0.4 {
		t.Fatalf("ClipNorm changed a gradient under the limit: %v", g)
	}
	// Just under the limit PyTorch still scales, by 1/(1 + 1e-6/norm).
	if c := ClipCoef(1-1e-7, 1); !(c < 1) {
		t.Fatalf("ClipCoef(1-1e-7, 1) = %v, want min(1, 1/(norm + 1e-6)) < 1", c)
	}
	g = []float64{-5, 0.5, 7}
	ClipValue(g, 1)
	if g[0] != -1 || g[1] != 0.5 || g[2] != 1 {
		t.Fatalf("ClipValue: %v", g)
	}
}

// TestSchedules: each kind's rate at a step, with 10 steps an epoch and a
// cosine period of 10 epochs; without StepsPerEpoch every step is in
// epoch 0.
func TestSchedules(t *testing.T) {
	for _, tc := range []struct {
		spec          string
		step          int64
		stepsPerEpoch int
		warmup        int
		want          float64
	}{
		{"constant", 1000, 10, 0, 0.1},
		{"step:2:0.5", 19, 10, 0, 0.1},
		{"step:2:0.5", 40, 10, 0, 0.025},
		{"step:2:0.5", 40, 0, 0, 0.1},
		{"exp:0.9", 25, 10, 0, 0.1 * 0.81},
		{"cosine", 0, 10, 0, 0.1},
		{"cosine", 50, 10, 0, 0.05},
		{"cosine:0.01", 100, 10, 0, 0.01},
		{"cosine:0.01", 500, 10, 0, 0.01},
		{"constant", 0, 0, 4, 0.025},
		{"constant", 3, 0, 4, 0.1},
	} {
		s, err := ParseSchedule(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if s.Kind == Cosine {
			s.Epochs = 10
		}
		s.Warmup, s.StepsPerEpoch = tc.warmup, tc.stepsPerEpoch
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := s.LR(0.1, tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s at step %d, %d steps an epoch, warm-up %d: %v, want %v", tc.spec, tc.step, tc.stepsPerEpoch, tc.warmup, got, tc.want)
		}
	}
	for _, bad := range []string{"", "linear", "step:2", "step:0:0.5", "step:2:1.5", "exp:-1", "cosine:x", "exp:NaN"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
	for _, bad := range []Schedule{
		{Kind: ScheduleKind(9)},
		{Kind: StepDecay, Gamma: 0.5},
		{Kind: Exponential, Gamma: 1.5},
		{Kind: Cosine, Epochs: -1},
		{Kind: Cosine, Min: math.NaN()},
		{Warmup: -1},
		{StepsPerEpoch: -1},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate accepted %+v", bad)
		}
		cfg := Defaults(Adam)
		cfg.Schedule = bad
		if _, err := New[float32](cfg, 1); err == nil {
			t.Errorf("New accepted the schedule %+v", bad)
		}
	}
}

// TestOptimizerFollowsItsSchedule: Begin takes each step's rate from the
// schedule and the step count, a restored optimizer continues on the same
// curve, and the schedule travels in the Config's JSON (left out when it
// is the zero one, so older checkpoints read as constant).
func TestOptimizerFollowsItsSchedule(t *testing.T) {
	cfg := Defaults(SGD)
	cfg.LR = 0.1
	cfg.Schedule = Schedule{Kind: Cosine, Min: 0.01, Epochs: 3, StepsPerEpoch: 4, Warmup: 2}
	o, err := New[float64](cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	p, g := []float64{1, 2}, []float64{0.5, -0.5}
	var rates []float64
	for range 7 {
		o.Step(p, g)
		rates = append(rates, o.LR())
	}
	for i, r := range rates {
		if want := cfg.Schedule.LR(0.1, int64(i)); r != want {
			t.Errorf("step %d at rate %v, the schedule says %v", i+1, r, want)
		}
	}
	if rates[0] != 0.05 || rates[4] >= rates[3] {
		t.Errorf("rates %v: want a warm-up from 0.05, then a decay", rates)
	}
	b, err := json.Marshal(o.Config())
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil || back != cfg {
		t.Fatalf("%s reads back as %+v, %v", b, back, err)
	}
	restored, _ := New[float64](back, 2)
	if err := restored.LoadState(o.State()); err != nil {
		t.Fatal(err)
	}
	if restored.LR() != rates[6] {
		t.Errorf("restored at rate %v, the original's last step was at %v", restored.LR(), rates[6])
	}
	p2 := slices.Clone(p)
	o.Step(p, g)
	restored.Step(p2, g)
	if !slices.Equal(p, p2) || restored.LR() != o.LR() {
		t.Errorf("the restored optimizer's step: %v at %v, the original's %v at %v", p2, restored.LR(), p, o.LR())
	}
	plain, _ := json.Marshal(Defaults(SGD))
	if strings.Contains(string(plain), "schedule") {
		t.Errorf("a constant schedule is written: %s", plain)
	}
	if err := o.SetSchedule(Schedule{Kind: StepDecay}); err == nil || o.Config().Schedule != cfg.Schedule {
		t.Errorf("SetSchedule of an invalid schedule: %v, schedule now %+v", err, o.Config().Schedule)
	}
}
