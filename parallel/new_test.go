package parallel

import (
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// TestNewRefusesOptimizerOfAnotherSize: an optimizer made for another
// parameter count is an error from New, not a panic in a worker's first
// step.
func TestNewRefusesOptimizerOfAnotherSize(t *testing.T) {
	m, _ := model.New[float32](model.MustParseSpec("64-32:relu-10:softmax"), 1)
	other, _ := model.New[float32](model.MustParseSpec("64-10:softmax"), 1)
	for _, method := range []optim.Method{optim.SGD, optim.Adam} {
		opt, _ := optim.New[float32](optim.Defaults(method), len(other.Params))
		_, err := New(m, opt, Config{Workers: 2})
		if err == nil || !strings.Contains(err.Error(), "650 parameters, the model has 2410") {
			t.Errorf("%v: want an error naming both sizes, got %v", method, err)
		}
	}
	if _, err := New(m, nil, Config{Workers: 1}); err == nil {
		t.Error("New accepted a nil optimizer")
	}
}
