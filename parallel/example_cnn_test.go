package parallel_test

import (
	"context"
	"fmt"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// Train a small CNN on the embedded digits, each an image of 1×8×8: a 3×3
// convolution of 8 channels, batch norm and ReLU, 2×2 max pooling, then a
// dense softmax layer.
func Example_cnn() {
	ctx := context.Background()
	m, _ := model.New[float32](model.MustParseSpec("1x8x8-conv(8,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax"), 1)

	oc := optim.Defaults(optim.Adam)
	oc.LR = 0.01
	opt, _ := optim.New[float32](oc, len(m.Params))
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 2})
	if err != nil {
		panic(err)
	}
	ds, _ := data.Digits()
	train, test, _ := ds.Split(0.2, 1)
	if _, err := tr.Fit(ctx, train, nil, parallel.FitConfig{Epochs: 8, BatchSize: 64, Shuffle: true}); err != nil {
		panic(err)
	}
	met, _ := tr.Evaluate(ctx, test, 64)
	fmt.Printf("%d test samples, accuracy above 95%%: %v\n", met.N, met.Accuracy > 0.95)
	// Output: 359 test samples, accuracy above 95%: true
}
