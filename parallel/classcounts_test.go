package parallel

import (
	"context"
	"strconv"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// Above MaxConfusionClasses an evaluation keeps per-class counts only:
// memory O(classes) per worker, not O(classes²), and the counts agree with
// the accuracy. At or below it, the confusion matrix's rows and columns
// sum to the same counts.
func TestEvaluateManyClassesKeepsPerClassCounts(t *testing.T) {
	for _, k := range []int{10, MaxConfusionClasses + 1, 5000} {
		n := 1000
		ds := &data.Dataset{Name: "many", N: n, Features: 2, F64: make([]float64, 2*n), Labels: make([]int32, n), Classes: make([]string, k)}
		for i := range n {
			ds.F64[2*i], ds.F64[2*i+1] = float64(i%7), float64(i%3)
			ds.Labels[i] = int32((i * 7919) % k)
		}
		for c := range k {
			ds.Classes[c] = strconv.Itoa(c)
		}
		m, _ := model.New[float32](model.MustParseSpec("2-"+strconv.Itoa(k)+":softmax"), 1)
		opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
		tr, err := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy})
		if err != nil {
			t.Fatal(err)
		}
		met, err := tr.Evaluate(context.Background(), ds, 100)
		if err != nil {
			t.Fatal(err)
		}
		if (met.Confusion != nil) != (k <= MaxConfusionClasses) {
			t.Errorf("%d classes: confusion matrix %v, want one only up to %d classes", k, met.Confusion != nil, MaxConfusionClasses)
		}
		var support, predicted, hits int64
		for i := range k {
			support += met.Support[i]
			predicted += met.Predicted[i]
			hits += met.Hits[i]
			if met.Confusion != nil {
				var row, col int64
				for j := range k {
					row += met.Confusion[i][j]
					col += met.Confusion[j][i]
				}
				if row != met.Support[i] || col != met.Predicted[i] || met.Confusion[i][i] != met.Hits[i] {
					t.Fatalf("class %d: confusion row %d, column %d, diagonal %d; counts %d, %d, %d", i, row, col, met.Confusion[i][i], met.Support[i], met.Predicted[i], met.Hits[i])
				}
			}
		}
		if support != int64(n) || predicted != int64(n) || float64(hits)/float64(n) != met.Accuracy {
			t.Errorf("%d classes: support %d, predicted %d, hits %d over %d samples, accuracy %v", k, support, predicted, hits, n, met.Accuracy)
		}
	}
}

func TestCheckStartRefusesImpossibleProgress(t *testing.T) {
	for _, tc := range []struct {
		p     Progress
		steps int
		opt   int64
		ok    bool
	}{
		{Progress{}, 10, 0, true},
		{Progress{}, 10, 500, true}, // a new Fit with an optimizer that trained before
		{Progress{Epoch: 2, Batch: 3}, 10, 23, true},
		{Progress{Epoch: 2, Batch: 10}, 10, 30, true}, // interrupted after an epoch's last step
		{Progress{Epoch: 2, Batch: 3}, 10, 0, true},   // weights alone: a new optimizer
		{Progress{Epoch: 1, Batch: 11}, 10, 21, false},
		{Progress{Epoch: 1, Batch: 1e12}, 10, 0, false},
		{Progress{Epoch: 1}, 10, 1 << 62, false},
		{Progress{Epoch: 2, Batch: 3}, 10, 22, false},
		{Progress{Epoch: 1 << 40}, 10, 0, false},
	} {
		if err := checkStart(tc.p, tc.steps, 100, tc.opt, false); (err == nil) != tc.ok {
			t.Errorf("start %+v, %d steps an epoch, optimizer at %d: %v, want ok %v", tc.p, tc.steps, tc.opt, err, tc.ok)
		}
	}
	// Another program's start (StartForeign), on epochs of other steps:
	// the step count is bounded by one a row of up to twice the 100 rows
	// for every epoch begun, not required to match these epochs.
	for _, tc := range []struct {
		p     Progress
		steps int
		opt   int64
		ok    bool
	}{
		{Progress{Epoch: 2}, 41, 90, true}, // 2 epochs of 45 steps, resumed on epochs of 41
		{Progress{Epoch: 2, Batch: 3}, 10, 22, true},
		{Progress{Epoch: 2}, 10, 600, true},
		{Progress{Epoch: 2}, 10, 601, false},
		{Progress{Epoch: 1}, 10, 1 << 62, false},
		{Progress{Epoch: 1, Batch: 11}, 10, 21, false}, // the epoch would be skipped
	} {
		if err := checkStart(tc.p, tc.steps, 100, tc.opt, true); (err == nil) != tc.ok {
			t.Errorf("foreign start %+v, %d steps an epoch, optimizer at %d: %v, want ok %v", tc.p, tc.steps, tc.opt, err, tc.ok)
		}
	}
}
