package data

import (
	"slices"
	"strings"
	"testing"
)

// Header names are trimmed as values are: " price" is the column price,
// for -label and in the names kept (Columns, LabelColumns).
func TestReadCSVTrimsHeaderNames(t *testing.T) {
	in := "area , rooms,\tprice , tax\n50,2,100.5,3\n80,3,180,5.5\n"
	d, err := ReadCSV(strings.NewReader(in), "h.csv", CSVOptions{Header: true, Label: "price,tax", Task: Regression})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Columns, []string{"area", "rooms"}) || !slices.Equal(d.LabelColumns, []string{"price", "tax"}) {
		t.Errorf("columns %q, targets %q", d.Columns, d.LabelColumns)
	}
}
