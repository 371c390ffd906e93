package parallel

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// statsSpec has a layer of every activation the statistics look at; the
// ReLU layer has dropout, which the dead-unit count must look through.
const statsSpec = "6-16:relu:dropout=0.25-12:tanh-10:sigmoid-4:softmax"

// statsModel is a model with some ReLU units dead (bias −100) and some
// tanh units saturated (large weights), so that the fractions are neither
// 0 nor 1.
func statsModel(t *testing.T) *model.Model[float64] {
	m := newModel(t, statsSpec)
	_, reluB := denseParams(m, 0)
	for u := range 5 {
		reluB[u] = -100
	}
	tanhW, _ := denseParams(m, 1)
	for i := range tanhW[:4*16] { // the first 4 of 12 rows (Out, In = 16)
		tanhW[i] *= 20
	}
	return m
}

// denseParams returns dense layer l's weight (Out, In) and bias: views of
// m.Params, from the layout.
func denseParams[T num.Float](m *model.Model[T], l int) (w, b []T) {
	ps := m.Layout.Layers[l].Params
	return m.Params[ps[0].Offset : ps[0].Offset+ps[0].Size()], m.Params[ps[1].Offset : ps[1].Offset+ps[1].Size()]
}

// wantStats computes one step's figures the plain way, with one workspace
// over all the step's micro-batches: the definition the trainer must meet
// for any worker count.
func wantStats(t *testing.T, m *model.Model[float64], cfg optim.Config, seed uint64, micro [][2][]float64, n int) []LayerStats {
	total := float64(n * len(micro))
	before := slices.Clone(m.Params)
	ws := model.NewWorkspace(m, n)
	ws.ZeroGrad()
	alive := map[int][]float64{}
	sat := map[int][2]float64{}
	for i, b := range micro {
		ws.SetDropoutStream(seed, 1, i*n)
		ws.Forward(b[0], n, true)
		for l, info := range m.Layout.Layers {
			a := ws.Activation(l)
			switch info.Spec.Act.Kind {
			case model.ReLU:
				if alive[l] == nil {
					alive[l] = make([]float64, info.Out[0])
				}
				for j, v := range a {
					alive[l][j%info.Out[0]] += v
				}
			case model.Sigmoid, model.Tanh:
				s := sat[l]
				for _, v := range a {
					if info.Spec.Act.Kind == model.Sigmoid && (v <= 0.01 || v >= 0.99) ||
						info.Spec.Act.Kind == model.Tanh && math.Abs(v) >= 0.98 {
						s[0]++
					}
				}
				s[1] += float64(len(a))
				sat[l] = s
			}
		}
		ws.LossGrad(model.CrossEntropy, b[1], total)
		ws.Backward()
	}
	opt, _ := optim.New[float64](cfg, len(m.Params))
	after := slices.Clone(m.Params)
	opt.Step(after, ws.Grad)
	norm := func(x []float64) float64 {
		var s float64
		for _, v := range x {
			s += v * v
		}
		return math.Sqrt(s)
	}
	var out []LayerStats
	for l, info := range m.Layout.Layers {
		lo, hi := info.ParamRange()
		ls := LayerStats{Layer: info.Name, Act: info.Spec.Act.Kind, GradNorm: norm(ws.Grad[lo:hi]), WeightNorm: norm(before[lo:hi]),
			DeadFrac: math.NaN(), SaturatedFrac: math.NaN()}
		d := make([]float64, hi-lo)
		for i := range d {
			d[i] = after[lo+i] - before[lo+i]
		}
		ls.UpdateRatio = norm(d) / ls.WeightNorm
		if a := alive[l]; a != nil {
			dead := 0
			for _, v := range a {
				if v == 0 {
					dead++
				}
			}
			ls.DeadFrac = float64(dead) / float64(len(a))
		}
		if s, ok := sat[l]; ok {
			ls.SaturatedFrac = s[0] / s[1]
		}
		out = append(out, ls)
	}
	return out
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-12*max(math.Abs(a), math.Abs(b))
}

func TestLayerStatsMatchReference(t *testing.T) {
	const n = 10
	var micro [][2][]float64
	for s := range 2 {
		x, y := randomRows(uint64(s+1), n, 6, 4)
		micro = append(micro, [2][]float64{x, y})
	}
	cfg := optim.Defaults(optim.Momentum)
	cfg.LR = 0.1
	want := wantStats(t, statsModel(t), cfg, 9, micro, n)
	if d := want[0].DeadFrac; !(d >= 5.0/16 && d < 1) {
		t.Fatalf("reference dead fraction %v: the test model should have some, not all, ReLU units dead", d)
	}
	if s := want[1].SaturatedFrac; !(s > 0 && s < 1) {
		t.Fatalf("reference saturated fraction %v: the test model should have some tanh units saturated", s)
	}
	for _, w := range []int{1, 2, 3} {
		m := statsModel(t)
		opt, _ := optim.New[float64](cfg, len(m.Params))
		tr, err := New(m, opt, Config{Workers: w, Loss: model.CrossEntropy, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		var got []LayerStats
		var fromGrads []float64
		var gradNorm float64
		err = tr.Run(context.Background(), func(s *Session[float64]) error {
			sr, err := s.Step(Batch[float64]{X: micro[0][0], Y: micro[0][1], N: n}, Batch[float64]{X: micro[1][0], Y: micro[1][1], N: n})
			got, gradNorm = slices.Clone(sr.Layers), sr.GradNorm
			g := s.grads()[0] // the reduced gradient (no clipping)
			for _, info := range m.Layout.Layers {
				lo, hi := info.ParamRange()
				var sq float64
				for _, v := range g[lo:hi] {
					sq += v * v
				}
				fromGrads = append(fromGrads, math.Sqrt(sq))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("W=%d: %d layers of statistics, want %d", w, len(got), len(want))
		}
		var sq float64
		for i, g := range got {
			wl := want[i]
			if g.Layer != wl.Layer || g.Act != wl.Act || !near(g.GradNorm, wl.GradNorm) || !near(g.GradNorm, fromGrads[i]) ||
				!near(g.WeightNorm, wl.WeightNorm) || !near(g.UpdateRatio, wl.UpdateRatio) ||
				g.DeadFrac != wl.DeadFrac && !(math.IsNaN(g.DeadFrac) && math.IsNaN(wl.DeadFrac)) ||
				g.SaturatedFrac != wl.SaturatedFrac && !(math.IsNaN(g.SaturatedFrac) && math.IsNaN(wl.SaturatedFrac)) {
				t.Errorf("W=%d: layer %d:\n got %+v\nwant %+v (norm from Session.grads %v)", w, i, g, wl, fromGrads[i])
			}
			sq += g.GradNorm * g.GradNorm
		}
		if !near(gradNorm, math.Sqrt(sq)) {
			t.Errorf("W=%d: global gradient norm %v, the layers' give %v", w, gradNorm, math.Sqrt(sq))
		}
	}
}

// The statistics must not change training: blocked updates are the same
// elementwise operations.
func TestLayerStatsLeaveTrainingUnchanged(t *testing.T) {
	const n = 12
	var params [2][]float64
	for i, off := range []bool{false, true} {
		m := statsModel(t)
		opt, _ := optim.New[float64](optim.Defaults(optim.Adam), len(m.Params))
		tr, err := New(m, opt, Config{Workers: 3, Loss: model.CrossEntropy, Seed: 9, NoLayerStats: off, ClipNorm: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		err = tr.Run(context.Background(), func(s *Session[float64]) error {
			for step := range 5 {
				x, y := randomRows(uint64(step), n, 6, 4)
				sr, err := s.Step(Batch[float64]{X: x, Y: y, N: n})
				if err != nil {
					return err
				}
				if (sr.Layers == nil) != off || !(sr.GradNorm > 0) {
					t.Errorf("NoLayerStats %v: step %d has %d layers, gradient norm %v", off, step, len(sr.Layers), sr.GradNorm)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		params[i] = m.Params
	}
	if !slices.Equal(params[0], params[1]) {
		t.Error("the weights after 5 steps differ with and without the statistics")
	}
}

// TestLayerStatsLeaveFloat32TrainingUnchanged is the test above where the
// blocks matter: float32 (the AVX passes, where there are) and a layer of
// 8,320 parameters, several applyBlock blocks.
func TestLayerStatsLeaveFloat32TrainingUnchanged(t *testing.T) {
	const n = 12
	var params [2][]float32
	for i, off := range []bool{false, true} {
		m, err := model.New[float32](model.MustParseSpec("64-128:relu-10:softmax"), 5)
		if err != nil {
			t.Fatal(err)
		}
		opt, _ := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
		tr, err := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy, Seed: 9, NoLayerStats: off, ClipNorm: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		err = tr.Run(context.Background(), func(s *Session[float32]) error {
			for step := range 5 {
				x64, y64 := randomRows(uint64(step), n, 64, 10)
				x, y := make([]float32, len(x64)), make([]float32, len(y64))
				for i, v := range x64 {
					x[i] = float32(v)
				}
				for i, v := range y64 {
					y[i] = float32(v)
				}
				if _, err := s.Step(Batch[float32]{X: x, Y: y, N: n}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		params[i] = m.Params
	}
	if !slices.Equal(params[0], params[1]) {
		t.Error("the weights after 5 steps differ with and without the statistics")
	}
}

// TestLayerStatsLeaveAxpyTrainingUnchanged is the test above for the
// updates made of BLAS vector passes (SGD, and heavy-ball momentum in
// float64: num.Axpy, num.Scal) on a chunk of 4,096 parameters or more,
// where a -tags openblas build hands a longer vector to OpenBLAS (whose
// axpy may fuse the multiply-add) and a shorter one to gonum. Until the
// update was cut into applyBlock blocks with or without statistics, a
// worker updated its whole chunk in one call when they were off and so
// took OpenBLAS's roundings there and gonum's with them on: the weights
// then depended on NoLayerStats in that build.
func TestLayerStatsLeaveAxpyTrainingUnchanged(t *testing.T) {
	const n = 12
	for _, c := range []struct {
		method  optim.Method
		workers int
	}{{optim.SGD, 1}, {optim.SGD, 2}, {optim.Momentum, 1}, {optim.Momentum, 2}} {
		var params [2][]float64
		for i, off := range []bool{false, true} {
			// 9,738 parameters: chunks of 9,738 and about 4,870.
			m, err := model.New[float64](model.MustParseSpec("64-128:relu-10:softmax"), 5)
			if err != nil {
				t.Fatal(err)
			}
			opt, _ := optim.New[float64](optim.Defaults(c.method), len(m.Params))
			tr, err := New(m, opt, Config{Workers: c.workers, Loss: model.CrossEntropy, Seed: 9, NoLayerStats: off})
			if err != nil {
				t.Fatal(err)
			}
			err = tr.Run(context.Background(), func(s *Session[float64]) error {
				for step := range 5 {
					x, y := randomRows(uint64(step), n, 64, 10)
					if _, err := s.Step(Batch[float64]{X: x, Y: y, N: n}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			params[i] = m.Params
		}
		if !slices.Equal(params[0], params[1]) {
			t.Errorf("%v, %d workers: the weights after 5 steps differ with and without the statistics", c.method, c.workers)
		}
	}
}

// TestDeadChannelsOfACNN: a channel of a convolution is dead when it is
// zero at every position of every row. The convolutions here run fused
// with their max pooling (their activations are never stored), the second
// on an odd plane whose last row and column no window reads; a channel with
// a bias of −100 is dead and no other, for any worker count.
func TestDeadChannelsOfACNN(t *testing.T) {
	const spec = "1x10x10-conv(4,3):relu-maxpool(2)-conv(3,2):relu-maxpool(2)-flatten-5:relu-3:softmax"
	const n = 7
	x, y := randomRows(4, n, 100, 3)
	for _, w := range []int{1, 2, 3} {
		m := newModel(t, spec)
		m.Params[m.Layout.Layers[0].Params[1].Offset+1] = -100 // conv.0, channel 1
		m.Params[m.Layout.Layers[2].Params[1].Offset+2] = -100 // conv.1, channel 2
		opt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(m.Params))
		tr, err := New(m, opt, Config{Workers: w, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		var got []LayerStats
		err = tr.Run(context.Background(), func(s *Session[float64]) error {
			sr, err := s.Step(Batch[float64]{X: x, Y: y, N: n})
			got = slices.Clone(sr.Layers)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[0].Layer != "conv.0" || got[1].Layer != "conv.1" {
			t.Fatalf("W=%d: layers %+v", w, got)
		}
		if got[0].DeadFrac != 1.0/4 || got[1].DeadFrac != 1.0/3 {
			t.Errorf("W=%d: dead fractions %v and %v, want 1/4 and 1/3", w, got[0].DeadFrac, got[1].DeadFrac)
		}
	}
}

// TestLayerStatsInsideBlocks: the per-layer figures cover the layers
// inside residual blocks, body and shortcut, in the stack's order, and a
// dead channel of a block's body is counted for any worker count.
func TestLayerStatsInsideBlocks(t *testing.T) {
	const spec = "1x6x6-conv(4,3,pad=1):relu-res(conv(4,3,pad=1):relu-conv(4,3,pad=1)|conv(4,1)):relu-gap-3:softmax"
	const n = 5
	x, y := randomRows(4, n, 36, 3)
	for _, w := range []int{1, 2, 3} {
		m := newModel(t, spec)
		m.Params[m.Layout.Layers[1].Params[1].Offset+2] = -100 // conv.1, the body's first, channel 2
		opt, _ := optim.New[float64](optim.Defaults(optim.SGD), len(m.Params))
		tr, err := New(m, opt, Config{Workers: w, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		var got []LayerStats
		err = tr.Run(context.Background(), func(s *Session[float64]) error {
			sr, err := s.Step(Batch[float64]{X: x, Y: y, N: n})
			got = slices.Clone(sr.Layers)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range got {
			names = append(names, l.Layer)
		}
		if !slices.Equal(names, []string{"conv.0", "conv.1", "conv.2", "conv.3", "dense.0"}) {
			t.Fatalf("W=%d: layers %v", w, names)
		}
		if got[1].DeadFrac != 1.0/4 || !(got[2].GradNorm > 0) || !(got[3].GradNorm > 0) {
			t.Errorf("W=%d: conv.1 dead fraction %v (want 1/4), conv.2 and conv.3 gradient norms %v, %v", w, got[1].DeadFrac, got[2].GradNorm, got[3].GradNorm)
		}
	}
}
