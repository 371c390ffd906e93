package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ptrain/ptrain/model/gradcheck"
	"github.com/ptrain/ptrain/model/num"
)

// randomBatch returns n rows of inputs and targets suited to loss: one-hot
// rows for cross-entropy, {0,1} for BCE, reals for MSE.
func randomBatch(rng *rand.Rand, n, in, out int, loss Loss) (x, y []float64) {
	x = make([]float64, n*in)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	y = make([]float64, n*out)
	for r := 0; r < n; r++ {
		switch loss {
		case CrossEntropy:
			y[r*out+rng.IntN(out)] = 1
		case BCE:
			for j := 0; j < out; j++ {
				y[r*out+j] = float64(rng.IntN(2))
			}
		default:
			for j := 0; j < out; j++ {
				y[r*out+j] = rng.NormFloat64()
			}
		}
	}
	return x, y
}

// checkModel gradient-checks every parameter of a model built from spec on
// a random batch, with dropout masks held fixed.
func checkModel(t *testing.T, spec string, loss Loss, n int) {
	t.Helper()
	sp := MustParseSpec(spec)
	m, err := New[float64](sp, 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range m.Params { // non-zero biases too, so every term is exercised
		m.Params[i] += 0.1 * rng.NormFloat64()
	}
	x, y := randomBatch(rng, n, sp.Inputs, sp.Outputs(), loss)
	ws := NewWorkspace(m, n)
	ws.SetDropoutStream(3, 4, 0)
	ws.ZeroGrad()
	ws.Forward(x, n, true)
	ws.LossGrad(loss, y, float64(n))
	ws.Backward()
	f := func() float64 {
		ws.Forward(x, n, true)
		return ws.Loss(loss, y) / float64(n)
	}
	if r := gradcheck.Check(m.Params, ws.Grad, f, 1e-5); r.MaxRelErr > 1e-6 {
		t.Errorf("%s with %v: %v", spec, loss, r)
	}
}

func TestGradientsEveryActivationAndLoss(t *testing.T) {
	acts := []string{"identity", "sigmoid", "tanh", "relu", "leakyrelu(0.1)", "softmax"}
	for _, act := range acts {
		for _, tc := range []struct {
			out  string
			loss Loss
		}{
			{"3:identity", MSE}, {"3:tanh", MSE}, {"3:softmax", MSE},
			{"3:sigmoid", BCE}, {"1:sigmoid", BCE}, {"4:softmax", CrossEntropy},
		} {
			spec := fmt.Sprintf("5-6:%s-%s", act, tc.out)
			t.Run(spec, func(t *testing.T) { checkModel(t, spec, tc.loss, 4) })
		}
	}
}

func TestGradientsThreeLayerNetworks(t *testing.T) {
	for _, tc := range []struct {
		spec string
		loss Loss
	}{
		{"6-8:relu-7:tanh-3:softmax", CrossEntropy},
		{"6-8:sigmoid-7:leakyrelu-2:sigmoid", BCE},
		{"6-8:tanh-7:relu-2", MSE},
		{"6-8:relu:dropout=0.3-7:tanh:dropout=0.5-3:softmax", CrossEntropy},
		{"6-8:softmax-7:sigmoid-3:identity", MSE},
	} {
		t.Run(tc.spec, func(t *testing.T) { checkModel(t, tc.spec, tc.loss, 5) })
	}
}

func TestCrossEntropyStableForHugeLogits(t *testing.T) {
	m, _ := NewZero[float64](MustParseSpec("1-3:softmax"))
	copy(m.Params, []float64{1000, -1000, 0, 0, 0, 0}) // W (3,1) then b (3)
	ws := NewWorkspace(m, 1)
	ws.Forward([]float64{1}, 1, false)
	l := ws.LossGrad(CrossEntropy, []float64{0, 1, 0}, 1)
	if math.Abs(l-2000) > 1e-9 || math.IsNaN(ws.dLast[0]) {
		t.Fatalf("loss %v, want 2000 with finite gradient", l)
	}
	l = ws.Loss(CrossEntropy, []float64{1, 0, 0})
	if l != 0 {
		t.Fatalf("loss of a certain correct prediction %v, want 0", l)
	}
}

func TestBCEStableForHugeLogits(t *testing.T) {
	m, _ := NewZero[float64](MustParseSpec("1-1:sigmoid"))
	copy(m.Params, []float64{800, 0})
	ws := NewWorkspace(m, 1)
	ws.Forward([]float64{1}, 1, false)
	if l := ws.Loss(BCE, []float64{0}); math.Abs(l-800) > 1e-9 {
		t.Fatalf("BCE(z=800, y=0) = %v, want 800", l)
	}
	if l := ws.Loss(BCE, []float64{1}); l != 0 {
		t.Fatalf("BCE(z=800, y=1) = %v, want 0", l)
	}
}

func TestDropoutEvalIsIdentityAndTrainKeepsExpectation(t *testing.T) {
	m, _ := NewZero[float64](MustParseSpec("1-1000:identity:dropout=0.25-1"))
	for i := range denseLayer(m, 0).W.Data {
		denseLayer(m, 0).W.Data[i] = 1
	}
	ws := NewWorkspace(m, 1)
	ws.Forward([]float64{1}, 1, false)
	for _, v := range ws.out[0][:1000] {
		if v != 0 {
			t.Fatal("eval pass wrote the dropout buffer")
		}
	}
	ws.SetDropoutStream(1, 1, 0)
	ws.Forward([]float64{1}, 1, true)
	kept, sum := 0, 0.0
	for _, v := range ws.out[0][:1000] {
		if v != 0 {
			kept++
			if math.Abs(v-4.0/3) > 1e-12 {
				t.Fatalf("kept value %v, want 1/(1-p) = 4/3", v)
			}
		}
		sum += v
	}
	if kept < 700 || kept > 800 {
		t.Fatalf("kept %d of 1000 at p = 0.25", kept)
	}
	if math.Abs(sum/1000-1) > 0.07 {
		t.Fatalf("mean after dropout %v, want about 1", sum/1000)
	}
}

func TestDropoutMaskDependsOnGlobalRowOnly(t *testing.T) {
	m, _ := New[float64](MustParseSpec("2-50:relu:dropout=0.5-1"), 1)
	x := []float64{1, 2, 3, 4, 5, 6}
	whole := NewWorkspace(m, 3)
	whole.SetDropoutStream(9, 2, 0)
	whole.Forward(x, 3, true)
	part := NewWorkspace(m, 1)
	part.SetDropoutStream(9, 2, 2)
	part.Forward(x[4:], 1, true)
	for j := 0; j < 50; j++ {
		if whole.mask[0][2*50+j] != part.mask[0][j] {
			t.Fatalf("row 2's mask differs when computed alone at column %d", j)
		}
	}
}

func TestInitializeScales(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		scheme Init
		want   float64 // variance
	}{
		{"400-300:relu-1", InitAuto, 2.0 / 400},
		{"400-300:tanh-1", InitAuto, 2.0 / 700},
		{"400-300:relu-1", HeNormal, 2.0 / 400},
		{"400-300:tanh-1", XavierNormal, 2.0 / 700},
		{"400-300:tanh-1", HeUniform, 1.0 / 400},
		{"400-300:leakyrelu(0.5)-1", HeUniform, 2.0 / 1.25 / 400},
	} {
		m, _ := NewZero[float64](MustParseSpec(tc.spec))
		if err := m.Initialize(1, tc.scheme); err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, v := range denseLayer(m, 0).W.Data {
			s += v * v
		}
		v := s / float64(len(denseLayer(m, 0).W.Data))
		if math.Abs(v/tc.want-1) > 0.03 {
			t.Errorf("%s %v: weight variance %.4g, want %.4g", tc.spec, tc.scheme, v, tc.want)
		}
		for _, b := range denseLayer(m, 0).B {
			if b != 0 {
				t.Fatalf("%s: bias not zero", tc.spec)
			}
		}
	}
}

func TestForwardAndBackwardDoNotAllocate(t *testing.T) {
	m, _ := New[float32](MustParseSpec("20-16:relu:dropout=0.2-8:tanh-4:softmax"), 1)
	ws := NewWorkspace(m, 8)
	x := make([]float32, 8*20)
	y := make([]float32, 8*4)
	allocs := testing.AllocsPerRun(20, func() {
		ws.ZeroGrad()
		ws.Forward(x, 8, true)
		ws.LossGrad(CrossEntropy, y, 8)
		ws.Backward()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per step, want 0", allocs)
	}
}

func TestFloat32MatchesFloat64Predictions(t *testing.T) {
	m64, _ := New[float64](MustParseSpec("10-32:relu-16:tanh-5:softmax"), 3)
	m32 := Convert[float32](m64)
	rng := rand.New(rand.NewPCG(5, 5))
	x64, _ := randomBatch(rng, 16, 10, 5, CrossEntropy)
	x32 := make([]float32, len(x64))
	for i, v := range x64 {
		x32[i] = float32(v)
	}
	o64 := NewWorkspace(m64, 16).Forward(x64, 16, false)
	o32 := NewWorkspace(m32, 16).Forward(x32, 16, false)
	for i := range o64 {
		if math.Abs(o64[i]-float64(o32[i])) > 1e-5 {
			t.Fatalf("output %d: float64 %v, float32 %v", i, o64[i], o32[i])
		}
	}
}

func TestReLUKernelsMatchDefinition(t *testing.T) {
	z := []float64{-2, math.Copysign(0, -1), 0, 1e-300, 3, math.Inf(1), math.Inf(-1), -1e-300}
	a := make([]float64, len(z))
	reluForward(z, a)
	d := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	reluBackward(a, d)
	for i, v := range z {
		want := max(v, 0)
		if a[i] != want || math.Signbit(a[i]) {
			t.Errorf("relu(%v) = %v, want +%v", v, a[i], want)
		}
		g := float64(i + 1)
		if a[i] <= 0 {
			g = 0
		}
		if d[i] != g {
			t.Errorf("relu'(%v)·%d = %v, want %v", v, i+1, d[i], g)
		}
	}
	z32 := []float32{-2, 0.5, 0, -1e-30}
	a32 := make([]float32, 4)
	reluForward(z32, a32)
	d32 := []float32{1, 1, 1, 1}
	reluBackward(a32, d32)
	if a32[0] != 0 || a32[1] != 0.5 || a32[3] != 0 || d32[0] != 0 || d32[1] != 1 || d32[2] != 0 {
		t.Fatalf("float32: a %v d %v", a32, d32)
	}
}

func TestClass(t *testing.T) {
	for _, tc := range []struct {
		row  []float32
		want int
	}{{[]float32{0.1, 0.7, 0.2}, 1}, {[]float32{0.9, 0.05, 0.05}, 0}, {[]float32{0.2, 0.2, 0.6}, 2}, {[]float32{0.51}, 1}, {[]float32{0.5}, 0}} {
		if got := Class(tc.row); got != tc.want {
			t.Errorf("Class(%v) = %d, want %d", tc.row, got, tc.want)
		}
	}
}

// The vector ReLU loops must give the Go loops' bits for every input,
// signed zeros, infinities, NaNs and subnormals included, at lengths
// around the 8-lane block.
func TestReLUVectorLoopsMatchGoLoops(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no vector ReLU on this machine")
	}
	special := []uint32{0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 1, 0x80000001, 0x3f800000, 0xbf800000}
	rng := rand.New(rand.NewPCG(4, 4))
	defer func(h bool) { haveAVX2 = h }(haveAVX2)
	for _, n := range []int{0, 3, 8, 13, 16, 29, 1000} {
		z, d := make([]float32, n), make([]float32, n)
		for i := range z {
			if rng.IntN(3) == 0 {
				z[i] = math.Float32frombits(special[rng.IntN(len(special))])
			} else {
				z[i] = float32(rng.NormFloat64())
			}
			d[i] = math.Float32frombits(rng.Uint32())
		}
		var a, g [2][]float32
		for k, vec := range []bool{true, false} {
			haveAVX2 = vec
			a[k], g[k] = make([]float32, n), append([]float32(nil), d...)
			reluForward(z, a[k])
			reluBackward(a[k], g[k])
		}
		for i := 0; i < n; i++ {
			if math.Float32bits(a[0][i]) != math.Float32bits(a[1][i]) || math.Float32bits(g[0][i]) != math.Float32bits(g[1][i]) {
				t.Fatalf("n=%d, z[%d]=%08x: forward %08x vs %08x, backward %08x vs %08x (vector vs Go)", n, i, math.Float32bits(z[i]),
					math.Float32bits(a[0][i]), math.Float32bits(a[1][i]), math.Float32bits(g[0][i]), math.Float32bits(g[1][i]))
			}
		}
	}
}

// denseLayer is the i-th dense layer of m's stack.
func denseLayer[T num.Float](m *Model[T], i int) *dense[T] {
	for _, l := range m.stack {
		if d, ok := l.(*dense[T]); ok {
			if i == 0 {
				return d
			}
			i--
		}
	}
	panic("no such dense layer")
}
