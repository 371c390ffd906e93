package data

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestFitPreprocessMixedColumnOnASplit: a numeric column whose one text
// cell lies in the held-out rows is refused on the training split with
// an error, not an index out of range: the split's Levels are the whole
// table's, so the text is in no row of the split.
func TestFitPreprocessMixedColumnOnASplit(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 20 {
		fmt.Fprintf(&b, "%d,%d\n", i, i%2)
	}
	b.WriteString("oops,1\n")
	for seed := uint64(1); seed < 50; seed++ {
		d, err := ReadCSV(strings.NewReader(b.String()), "t.csv", CSVOptions{Header: true, Label: "y", Raw: true})
		if err != nil {
			t.Fatal(err)
		}
		train, held, err := d.Split(0.25, seed)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(held.RowLines, 22) {
			continue // the text row trains
		}
		_, err = FitPreprocess(train, PrepOptions{})
		if err == nil || !strings.Contains(err.Error(), `"oops" is not a number`) {
			t.Fatalf("FitPreprocess on a split without the text: %v", err)
		}
		return
	}
	t.Fatal("no seed held out the text row")
}

// TestApplyNamesTheTextCellOfANumericColumn: rows for a model trained on
// numbers in a column, one of them text: the error names that cell and
// its line. Reading the text turns the column's earlier numbers into
// levels too, and they are still numbers, not the error.
func TestApplyNamesTheTextCellOfANumericColumn(t *testing.T) {
	read := func(s string) *Dataset {
		d, err := ReadCSV(strings.NewReader(s), "t.csv", CSVOptions{Header: true, Label: "y", Raw: true})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	p, err := FitPreprocess(read("x,y\n1,0\n2,1\n3,0\n"), PrepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = p.Apply(read("x,y\n1.5,0\n2,1\nabc,0\n"))
	if err == nil || !strings.Contains(err.Error(), `line 4, column "x": "abc" is not a number`) {
		t.Fatalf("Apply with a text cell on line 4: %v", err)
	}
}
