package model

import (
	"math/rand/v2"
	"testing"
)

// TestPredictAndClassify: Predict is the evaluation pass of a workspace,
// also for more rows than one pass takes, and Classify its classes.
func TestPredictAndClassify(t *testing.T) {
	m, _ := New[float32](MustParseSpec("1x8x8-conv(4,3,pad=1)-bn:relu-maxpool(2)-flatten-16:relu:dropout=0.5-10:softmax"), 1)
	for i := range m.Buffers { // running statistics that are not the defaults
		m.Buffers[i] += 0.25
	}
	n := predictRows + 44
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*m.Spec.Inputs)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	ws := NewWorkspace(m, n)
	want := ws.Forward(x, n, false)
	got := m.Predict(x, n)
	if len(got) != len(want) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	for i := range want {
		// Predict runs 256 rows at a time: a BLAS may round a GEMM of
		// other shape differently in the last bit (OpenBLAS does).
		if d := got[i] - want[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("output %d: %v, want %v", i, got[i], want[i])
		}
	}
	classes := m.Classify(x, n)
	seen := map[int]bool{}
	for r, c := range classes {
		if w := Class(got[r*10 : (r+1)*10]); c != w {
			t.Fatalf("row %d: class %d, want %d", r, c, w)
		}
		seen[c] = true
	}
	if len(seen) < 2 {
		t.Fatalf("every row in class %v", seen)
	}
	if len(m.Predict(nil, 0)) != 0 {
		t.Fatal("Predict of no rows")
	}
	b, _ := New[float64](MustParseSpec("2-1:sigmoid"), 1)
	copy(b.Params, []float64{1, 0, 0})
	if c := b.Classify([]float64{2, 5, -2, 5}, 2); c[0] != 1 || c[1] != 0 {
		t.Fatalf("sigmoid classes %v, want [1 0]", c)
	}
}
