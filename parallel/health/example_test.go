package health_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
	"github.com/ptrain/ptrain/parallel/health"
)

// Watch the per-layer figures and the diagnosis of a deep sigmoid network
// that does not learn: its first layer's gradient is 1e-5 of its last's.
func ExampleWatch() {
	spec := "64" + strings.Repeat("-32:sigmoid", 8) + "-10:softmax"
	m, _ := model.New[float32](model.MustParseSpec(spec), 1)
	_ = m.Initialize(1, model.XavierUniform) // Xavier under sigmoid, as New's default; explicit here
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
	tr, _ := parallel.New(m, opt, parallel.Config{Workers: 2, Loss: model.CrossEntropy})
	ds, _ := data.Digits()
	watch := health.NewWatch(func(w health.Warning) { fmt.Println(w.Code, w.Layer) })
	_, err := tr.Fit(context.Background(), ds, nil, watch.Hooks(parallel.FitConfig{Epochs: 1, BatchSize: 64, Shuffle: true,
		OnEpoch: func(e parallel.EpochInfo) error {
			first, last := e.Layers[0], e.Layers[len(e.Layers)-1]
			fmt.Printf("%s/%s gradient norm below 1e-4: %v\n", first.Layer, last.Layer, first.GradNorm.Mean < 1e-4*last.GradNorm.Mean)
			return nil
		},
	}))
	watch.Stopped(err)
	if err != nil {
		panic(err)
	}
	// Output:
	// vanishing-gradient dense.0
	// dense.0/dense.8 gradient norm below 1e-4: true
}
