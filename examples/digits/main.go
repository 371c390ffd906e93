// Command digits trains an MLP on the embedded 8x8 digits with two workers,
// reports its test accuracy, classifies three test images and saves a
// checkpoint.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ctx := context.Background()
	ds, err := data.Digits()
	if err != nil {
		return err
	}
	train, test, err := ds.Split(0.2, 1) // a seeded fifth held out
	if err != nil {
		return err
	}
	m, err := model.New[float32](model.MustParseSpec("64-128:relu-10:softmax"), 1) // weights from seed 1
	if err != nil {
		return err
	}
	opt, err := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
	if err != nil {
		return err
	}
	// No Loss given: the one that fits the output, cross-entropy for softmax.
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 2, BatchSize: 64})
	if err != nil {
		return err
	}
	if _, err := tr.Fit(ctx, train, nil, parallel.FitConfig{Epochs: 30, Shuffle: true}); err != nil {
		return err
	}
	met, err := tr.Evaluate(ctx, test)
	if err != nil {
		return err
	}
	fmt.Printf("test accuracy %.2f%% on %d digits\n", 100*met.Accuracy, met.N)

	x := make([]float32, 3*test.Features) // the first three test images
	for i := range 3 {
		data.FillRow(test, i, x[i*test.Features:])
	}
	fmt.Println("predicted", m.Classify(x, 3), "labelled", test.Labels[:3])
	// The model, the optimizer's state, the class names and the progress:
	// a checkpoint that ptrain eval, predict and train -resume accept.
	return checkpoint.Save("digits.safetensors", &checkpoint.Checkpoint[float32]{
		Model: m, Optimizer: opt, Progress: tr.Progress(),
		Task: checkpoint.Classification, Classes: ds.Classes,
	})
}
