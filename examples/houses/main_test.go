package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/ptrain/ptrain/data"
)

// The committed houses.csv is what the program writes, and reads as the
// README says: 2,000 rows, a price target, an ID and a city column of text
// and missing cells for -impute.
func TestHousesCSVIsTheGeneratorsOutput(t *testing.T) {
	var b bytes.Buffer
	write(&b, rows)
	committed, err := os.ReadFile("houses.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, b.Bytes()) {
		t.Fatal("houses.csv differs from the generator's output: go run ./examples/houses > examples/houses/houses.csv")
	}
	d, err := data.ReadCSV(bytes.NewReader(committed), "houses.csv", data.CSVOptions{Header: true, Label: "price", Task: data.Regression, Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != rows || d.Features != 5 {
		t.Fatalf("%d rows of %d features, want %d of 5", d.N, d.Features, rows)
	}
	missing := 0
	for _, v := range d.F64 {
		if v != v {
			missing++
		}
	}
	if missing == 0 {
		t.Error("no missing cells: -impute has nothing to do")
	}
}
