package parallel

import (
	"context"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// TestInconsistentDatasetIsAnError: a dataset that does not fit the model,
// or does not fit together, is an error from Fit and Evaluate, not a panic
// inside a worker's FillRow.
func TestInconsistentDatasetIsAnError(t *testing.T) {
	m, _ := model.New[float32](model.MustParseSpec("4-8:relu-3:softmax"), 1)
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
	tr, _ := New(m, opt, Config{Workers: 2})
	ctx := context.Background()
	short := &data.Dataset{Name: "short", N: 8, Features: 4, F64: make([]float64, 30), Labels: make([]int32, 8), Classes: []string{"a", "b", "c"}}
	wide, _ := data.FromSlices([][]float64{{1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}}, []int{0, 2}, nil)
	good, _ := data.FromSlices([][]float64{{1, 2, 3, 4}, {4, 3, 2, 1}, {0, 0, 1, 1}}, []int{0, 1, 2}, nil)
	for _, tc := range []struct {
		ds   *data.Dataset
		want string
	}{{short, "30 feature values"}, {wide, "5 features, the model takes 4"}} {
		if _, err := tr.Fit(ctx, tc.ds, nil, FitConfig{Epochs: 1, BatchSize: 4}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Fit on %s: %v, want %q", tc.ds.Name, err, tc.want)
		}
		if _, err := tr.Fit(ctx, good, tc.ds, FitConfig{Epochs: 1, BatchSize: 4}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Fit validating on %s: %v, want %q", tc.ds.Name, err, tc.want)
		}
		if _, err := tr.Evaluate(ctx, tc.ds, 4); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Evaluate on %s: %v, want %q", tc.ds.Name, err, tc.want)
		}
	}
	if _, err := tr.Fit(ctx, good, good, FitConfig{Epochs: 2, BatchSize: 4}); err != nil {
		t.Fatal(err)
	}
}
