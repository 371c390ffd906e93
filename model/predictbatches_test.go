package model_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
)

// TestPredictBatchesIsPredict: rows filled batch by batch give Predict's
// outputs, over more rows than one batch, and f's error stops the loop.
func TestPredictBatchesIsPredict(t *testing.T) {
	m, _ := model.New[float64](model.MustParseSpec("3-8:relu:dropout=0.5-2:softmax"), 1)
	const n = 600
	x := make([]float64, n*3)
	for i := range x {
		x[i] = float64(i%17) / 17
	}
	want := m.Predict(x, n)
	got := make([]float64, 0, n*2)
	buf := make([]float64, 256*3)
	err := m.PredictBatches(n, func(lo, k int) []float64 {
		copy(buf, x[lo*3:(lo+k)*3])
		return buf[:k*3]
	}, func(lo int, y []float64) error {
		if lo != len(got)/2 {
			t.Fatalf("batch at row %d after %d rows", lo, len(got)/2)
		}
		got = append(got, y...)
		return nil
	})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("PredictBatches: %v; outputs equal to Predict's: %v", err, slices.Equal(got, want))
	}
	stop := errors.New("stop")
	calls := 0
	err = m.PredictBatches(n, func(lo, k int) []float64 { return x[lo*3 : (lo+k)*3] }, func(int, []float64) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("an error from f: %v after %d calls", err, calls)
	}
}

// PredictBatches runs rows that are filled a batch at a time — from a
// file or a dataset — without holding them all.
func ExampleModel_PredictBatches() {
	m, _ := model.New[float32](model.MustParseSpec("2-4:relu-3:softmax"), 1)
	x := make([]float32, 256*2) // one batch of rows, refilled
	err := m.PredictBatches(600, func(lo, k int) []float32 {
		for r := range k {
			x[2*r], x[2*r+1] = float32(lo+r), 1 // row lo+r
		}
		return x[:2*k]
	}, func(lo int, y []float32) error {
		fmt.Printf("rows %d to %d: %d outputs\n", lo, lo+len(y)/3-1, len(y))
		return nil
	})
	fmt.Println(err)
	// Output:
	// rows 0 to 255: 768 outputs
	// rows 256 to 511: 768 outputs
	// rows 512 to 599: 264 outputs
	// <nil>
}

// A workspace's PredictBatches runs batches of its capacity, f may add the
// loss of the batch it receives to a LossSum, which then has the bits of
// one Loss over all the rows (with ptrain's GEMM, whose outputs for a row
// do not depend on the rows beside it; OpenBLAS's may), and a loop
// allocates nothing.
func TestWorkspacePredictBatches(t *testing.T) {
	exact := num.OwnKernels() || !strings.Contains(num.Backend(), "OpenBLAS") // OpenBLAS computes GEMMs only on CPUs without the kernels
	for _, tc := range []struct {
		spec string
		loss model.Loss
	}{{"3-8:relu-2:softmax", model.CrossEntropy}, {"3-8:relu-2:softmax", model.MSE}, {"3-8:relu-2:sigmoid", model.BCE}} {
		m, _ := model.New[float64](model.MustParseSpec(tc.spec), 1)
		const n, capacity = 203, 5
		x, y := make([]float64, n*3), make([]float64, n*2)
		for i := range x {
			x[i] = float64(i%17) / 17
		}
		for i := range n {
			y[2*i+i%2] = 1
		}
		ref := model.NewWorkspace(m, n)
		want := slices.Clone(ref.Forward(x, n, false))
		wantLoss := ref.Loss(tc.loss, y)
		ws := model.NewWorkspace(m, capacity)
		var got []float64
		var loss model.LossSum
		var sizes []int
		err := ws.PredictBatches(n, func(lo, k int) []float64 { return x[lo*3 : (lo+k)*3] }, func(lo int, p []float64) error {
			k := len(p) / 2
			sizes = append(sizes, k)
			got = append(got, p...)
			ws.AddLoss(tc.loss, y[lo*2:(lo+k)*2], &loss)
			return nil
		})
		near := len(got) == len(want)
		for i := range min(len(got), len(want)) {
			near = near && math.Abs(got[i]-want[i]) <= 1e-12
		}
		if err != nil || !near || len(sizes) != 41 || sizes[0] != 5 || sizes[40] != 3 {
			t.Fatalf("%v: PredictBatches: %v; batches %v; outputs those of one Forward: %v", tc.loss, err, sizes, near)
		}
		if exact && !slices.Equal(got, want) || exact && loss.Sum() != wantLoss || math.Abs(loss.Sum()-wantLoss) > 1e-9 {
			t.Errorf("%v: the batches' LossSum is %v, one Forward's Loss %v", tc.loss, loss.Sum(), wantLoss)
		}
	}
	m, _ := model.New[float64](model.MustParseSpec("3-8:relu-2:softmax"), 1)
	ws := model.NewWorkspace(m, 5)
	x := make([]float64, 23*3)
	rows := func(lo, k int) []float64 { return x[lo*3 : (lo+k)*3] }
	f := func(int, []float64) error { return nil }
	if a := testing.AllocsPerRun(10, func() { _ = ws.PredictBatches(23, rows, f) }); a != 0 {
		t.Errorf("%v allocations per PredictBatches, want 0", a)
	}
	if s := (model.LossSum{}).Sum(); s != 0 {
		t.Errorf("an empty LossSum is %v", s)
	}
}
