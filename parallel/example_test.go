package parallel_test

import (
	"context"
	"fmt"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// Train an MLP on the embedded digits with two workers and evaluate it on a
// held-out fifth.
func Example() {
	ctx := context.Background()
	m, _ := model.New[float32](model.MustParseSpec("64-128:relu-10:softmax"), 1)

	opt, _ := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 2, Loss: model.CrossEntropy})
	if err != nil {
		panic(err)
	}
	ds, _ := data.Digits()
	train, test, _ := ds.Split(0.2, 1)
	if _, err := tr.Fit(ctx, train, nil, parallel.FitConfig{Epochs: 30, BatchSize: 64, Shuffle: true}); err != nil {
		panic(err)
	}
	met, _ := tr.Evaluate(ctx, test, 64)
	fmt.Printf("%d test samples, accuracy above 95%%: %v\n", met.N, met.Accuracy > 0.95)
	// Output: 359 test samples, accuracy above 95%: true
}
