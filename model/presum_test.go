package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ptrain/ptrain/model/num"
)

// TestConvSumsForBatchNormMatchTheNormsOwn: where a conv's output goes
// only into a batch norm, the conv adds up the norm's Σx per channel as it
// writes its output (pass.OutSums), and the training pass — the norm's
// output, the running statistics — has the bits of the norm summing its
// input itself, for every im2col layout, in groups of one sample and of
// several, float32 and float64. Layers whose output has another reader,
// an activation or no batch norm after them get no sums.
func TestConvSumsForBatchNormMatchTheNormsOwn(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		presum []bool // per layer of the stack
	}{
		{"3x9x9-conv(4,3,pad=1)-bn:relu-conv(4,3)-bn-flatten-3:softmax", []bool{true, false, true, false, false, false}},
		{"3x9x9-conv(4,3,stride=2,pad=1)-bn-conv(4,1,stride=2)-bn:relu-gap-3:softmax", []bool{true, false, true, false, false, false}},
		{"16x12x12-conv(16,3,pad=1)-bn:relu-res(conv(16,3,pad=1)-bn|conv(16,1)-bn):relu-gap-3:softmax", []bool{true, false, true, false, true, false, false, false, false}},
		{"3x9x9-conv(4,3,pad=1):relu-bn-res(conv(4,3,pad=1))-bn-gap-3:softmax", []bool{false, false, false, false, false, false, false}},
	} {
		t.Run(tc.spec+"/float32", func(t *testing.T) { checkPresum[float32](t, tc.spec, tc.presum) })
		t.Run(tc.spec+"/float64", func(t *testing.T) { checkPresum[float64](t, tc.spec, tc.presum) })
	}
}

func checkPresum[T num.Float](t *testing.T, spec string, presum []bool) {
	defer func(b int) { convGroupBytes = b }(convGroupBytes)
	convGroupBytes = 24 << 10 // groups of 2 samples at 9×9, of 1 at 16×12×12
	const n = 5
	run := func(own bool) (out, buffers []T) {
		m, err := New[T](MustParseSpec(spec), 1)
		if err != nil {
			t.Fatal(err)
		}
		w := NewWorkspace(m, n)
		if len(w.presum) != len(presum) {
			t.Fatalf("%d layers, want %d", len(w.presum), len(presum))
		}
		for l, want := range presum {
			if got := w.presum[l] != nil; got != want {
				t.Errorf("layer %d (%s): sums for the batch norm %v, want %v", l, m.stack[l].Info().Spec.Kind, got, want)
			}
			if own {
				w.presum[l] = nil
			}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		x := make([]T, n*m.Spec.Inputs)
		for i := range x {
			x[i] = T(rng.NormFloat64() + 0.5)
		}
		out = append([]T(nil), w.Forward(x, n, true)...)
		out = append(out, w.Forward(x, n, false)...)
		return out, m.Buffers
	}
	wantOut, wantBuf := run(true)
	gotOut, gotBuf := run(false)
	for i := range wantOut {
		if math.Float64bits(float64(gotOut[i])) != math.Float64bits(float64(wantOut[i])) {
			t.Fatalf("output %d: %v with the conv's sums, %v with the norm's own", i, gotOut[i], wantOut[i])
		}
	}
	for i := range wantBuf {
		if math.Float64bits(float64(gotBuf[i])) != math.Float64bits(float64(wantBuf[i])) {
			t.Fatalf("running statistic %d: %v with the conv's sums, %v with the norm's own", i, gotBuf[i], wantBuf[i])
		}
	}
}
