package data_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ptrain/ptrain/data"
)

// Read a CSV table with a string label, standardise it on the training
// split, and fill a batch.
func Example() {
	csv := "height,weight,kind\n1.0,10,cat\n1.2,12,cat\n3.0,40,dog\n3.3,44,dog\n"
	ds, err := data.ReadCSV(strings.NewReader(csv), "pets.csv", data.CSVOptions{Header: true, Label: "kind"})
	if err != nil {
		panic(err)
	}
	fmt.Println(ds.N, "samples,", ds.Features, "features, classes", ds.Classes)

	t, _ := data.FitTransform(ds, "zscore")
	t.Apply(ds)
	b, _ := data.NewBatcher[float32](ds, 2, 2, false, 1)
	x, y := make([]float32, 2*2), make([]float32, 2*2)
	n := b.Next(x, y)
	fmt.Printf("batch of %d, first row %.2f, one-hot %v\n", n, x[:2], y[:2])
	// Output:
	// 4 samples, 2 features, classes [cat dog]
	// batch of 2, first row [-1.09 -1.06], one-hot [1 0]
}

func ExampleReadCSV_error() {
	_, err := data.ReadCSV(strings.NewReader("1,2,0\n3,x,1\n"), "t.csv", data.CSVOptions{})
	fmt.Println(err)
	// Output: t.csv: line 2, column 2: field "x" is not a number
}

// Fit a table's preprocessing on its training rows, then encode a file
// whose columns come in another order, with a category the training rows
// did not have.
func ExampleFitPreprocess() {
	train := "id,size,colour,price\n1,50,red,100\n2,NA,blue,180\n3,70,red,150\n"
	raw, err := data.ReadCSV(strings.NewReader(train), "train.csv", data.CSVOptions{Header: true, Label: "price", Task: data.Regression, Raw: true})
	if err != nil {
		panic(err)
	}
	p, err := data.FitPreprocess(raw, data.PrepOptions{Drop: []string{"id"}, Impute: "median", TargetScale: "zscore"})
	if err != nil {
		panic(err)
	}
	later := "colour,size\ngreen,NA\nblue,65\n"
	rows, _ := data.ReadCSV(strings.NewReader(later), "later.csv", data.CSVOptions{Header: true, NoLabel: true, Raw: true})
	enc, warnings, err := p.Apply(rows)
	if err != nil {
		panic(err)
	}
	fmt.Println(enc.Columns)
	fmt.Println(enc.F64)
	fmt.Println(warnings)
	fmt.Printf("an output of 0 is %.0f\n", p.UnscaleOutput(0, 0))
	// Output:
	// [size colour=blue colour=red]
	// [60 0 0 65 1 0]
	// [later.csv: column "colour": 1 rows have a category the training split did not ("green"): encoded as all zeros]
	// an output of 0 is 143
}

// A task's name is its text in JSON and in checkpoints (ptrain.task).
func ExampleParseTask() {
	t, err := data.ParseTask("regression")
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(struct{ Task data.Task }{t})
	fmt.Println(t == data.Regression, string(b))
	_, err = data.ParseTask("ranking")
	fmt.Println(err)
	// Output:
	// true {"Task":"regression"}
	// task "ranking": want classification or regression
}
