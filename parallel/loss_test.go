package parallel

import (
	"context"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// TestZeroLossFitsTheOutput: a Config that names no loss trains with the
// loss of the output activation, not MSE (the zero of model.Loss once was).
func TestZeroLossFitsTheOutput(t *testing.T) {
	for spec, want := range map[string]model.Loss{
		"64-16:relu-10:softmax": model.CrossEntropy,
		"64-16:relu-1:sigmoid":  model.BCE,
		"64-16:relu-3":          model.MSE,
	} {
		m, _ := model.New[float32](model.MustParseSpec(spec), 1)
		opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
		tr, err := New(m, opt, Config{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Loss() != want {
			t.Errorf("%s: zero Config trains with %v, want %v", spec, tr.Loss(), want)
		}
	}
	_, test := digitsSplit(t)
	m, _ := model.New[float32](model.MustParseSpec("64-16:relu-10:softmax"), 1)
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
	auto, _ := New(m, opt, Config{Workers: 2})
	ce, _ := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy})
	a, err := auto.Evaluate(context.Background(), test, 16)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ce.Evaluate(context.Background(), test, 16)
	if err != nil {
		t.Fatal(err)
	}
	if a.Loss != c.Loss || !(a.Loss > 0) {
		t.Fatalf("zero Config's loss %v, cross-entropy's %v", a.Loss, c.Loss)
	}
}
