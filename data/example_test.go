package data_test

import (
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
