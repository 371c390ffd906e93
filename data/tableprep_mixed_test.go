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
