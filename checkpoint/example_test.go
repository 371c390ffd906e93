package checkpoint_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// Train for two epochs, save everything a run needs, load it back and
// train on from where it stopped. The file is one that `ptrain eval
// -model digits.safetensors -data digits`, `ptrain predict` and `ptrain
// train -resume digits.safetensors -data digits` accept.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "checkpoint")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "digits.safetensors")

	ds, _ := data.Digits()
	train, test, _ := ds.Split(0.2, 1)
	m, _ := model.New[float32](model.MustParseSpec("64-32:relu-10:softmax"), 1)
	opt, _ := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
	tr, _ := parallel.New(m, opt, parallel.Config{Workers: 2})
	if _, err := tr.Fit(ctx, train, nil, parallel.FitConfig{Epochs: 2, BatchSize: 64, Shuffle: true}); err != nil {
		panic(err)
	}
	err := checkpoint.Save(path, &checkpoint.Checkpoint[float32]{
		Model: m, Optimizer: opt, Progress: tr.Progress(),
		Task: new(data.Classification), Classes: ds.Classes,
		Meta: map[string]string{"note": "two epochs on the digits"},
	})
	if err != nil {
		panic(err)
	}

	c, err := checkpoint.Load[float32](path)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Model.Spec, c.Optimizer.Config().Method, "epoch", c.Progress.Epoch, "step", c.Optimizer.Steps(), c.Classes[:3], c.Meta["note"])
	tr, _ = parallel.New(c.Model, c.Optimizer, parallel.Config{Workers: 2})
	if _, err := tr.Fit(ctx, train, nil, parallel.FitConfig{Epochs: 20, BatchSize: 64, Shuffle: true, Start: c.Progress}); err != nil {
		panic(err)
	}
	met, _ := tr.Evaluate(ctx, test, 64)
	fmt.Println("epoch", tr.Progress().Epoch, "accuracy above 90%:", met.Accuracy > 0.9)
	// Output:
	// 64-32:relu-10:softmax adam epoch 2 step 46 [0 1 2] two epochs on the digits
	// epoch 20 accuracy above 90%: true
}

// TrainedOn records what a model was trained on, so that ptrain eval
// scores the same held-out rows, ptrain train -resume keeps the batch size
// and refuses changed data, and inputs scaled otherwise are warned about.
func ExampleCheckpoint_TrainedOn() {
	ds, _ := data.Digits()
	train, _, split, _ := ds.TestSplit(0.2)
	m, _ := model.New[float32](model.MustParseSpec("64-32:relu-10:softmax"), 1)
	c := &checkpoint.Checkpoint[float32]{Model: m, Task: new(data.Classification), Classes: ds.Classes}
	c.TrainedOn(train, split, 64)

	f, _ := checkpoint.Encode(c)
	for _, k := range []string{checkpoint.MetaSplit, checkpoint.MetaBatch, checkpoint.MetaInputRange} {
		fmt.Println(k, f.Metadata[k])
	}
	// Output:
	// ptrain.split {"data":"7340d8c14d1fd04951f4d9b924d4c91cc99ea8df51d414bf80164201ae485634","rows":1797,"share":0.2,"seed":20240601}
	// ptrain.batch 64
	// ptrain.input_range {"min":0,"max":1}
}

// DecodeHeader reads what a checkpoint says without its tensor data (here
// only the file's header is read), as image.DecodeConfig does for an
// image: a program chooses the element type to Decode the whole file
// with by DType.
func ExampleDecodeHeader() {
	m, _ := model.New[float64](model.MustParseSpec("4-8:relu-3:softmax"), 1)
	opt, _ := optim.New[float64](optim.Defaults(optim.Adam), len(m.Params))
	var buf bytes.Buffer
	err := checkpoint.Write(&buf, &checkpoint.Checkpoint[float64]{Model: m, Optimizer: opt,
		Task: new(data.Classification), Classes: []string{"setosa", "versicolor", "virginica"}})
	if err != nil {
		panic(err)
	}

	f, err := safetensors.ReadHeader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		panic(err)
	}
	h, err := checkpoint.DecodeHeader(f)
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Spec, h.DType, *h.Task, h.Classes, h.Optimizer.Method)
	fmt.Println(f.Names())

	whole, _ := safetensors.Parse(buf.Bytes())
	if h.DType == checkpoint.F64 {
		c, err := checkpoint.Decode[float64](whole)
		if err != nil {
			panic(err)
		}
		fmt.Println(len(c.Model.Params), "float64 parameters")
	}
	// Output:
	// 4-8:relu-3:softmax F64 classification [setosa versicolor virginica] adam
	// [dense.0.weight dense.0.bias dense.1.weight dense.1.bias optim.exp_avg optim.exp_avg_sq]
	// 67 float64 parameters
}
