// Command digits trains an MLP on the embedded 8x8 digits with two workers,
// reports its test accuracy, classifies eight test images and saves a
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
	// A fifth held out as ptrain train holds it out (data.TestSeed), so
	// that ptrain eval and train -resume score these rows, and only these.
	train, test, split, err := ds.TestSplit(0.2)
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
	const batch = 64
	tr, err := parallel.New(m, opt, parallel.Config{Workers: 2})
	if err != nil {
		return err
	}
	if _, err := tr.Fit(ctx, train, nil, parallel.FitConfig{Epochs: 30, BatchSize: batch, Shuffle: true}); err != nil {
		return err
	}
	met, err := tr.Evaluate(ctx, test, batch)
	if err != nil {
		return err
	}
	fmt.Printf("test accuracy %.2f%% on %d digits\n", 100*met.Accuracy, met.N)

	x := make([]float32, 8*test.Features) // the first eight test images
	for i := range 8 {
		data.FillRow(test, i, x[i*test.Features:])
	}
	fmt.Println("predicted", m.Classify(x, 8), "labelled", test.Labels[:8])
	// The model, the optimizer's state, the class names and the progress,
	// and what it trained on (the 1/16 scale of the pixels, their range,
	// the split, the batch size): a checkpoint that ptrain eval, predict
	// and train -resume accept and treat as this run.
	c := &checkpoint.Checkpoint[float32]{
		Model: m, Optimizer: opt, Progress: tr.Progress(),
		Task: new(data.Classification), Classes: ds.Classes,
	}
	c.TrainedOn(train, split, batch)
	return checkpoint.Save("digits.safetensors", c)
}
