package main

import (
	"testing"

	"github.com/ptrain/ptrain/data"
)

// TestWriteReadsBackAsTheDigits: the folder written reads back as the
// digits' split, pixel for pixel up to the 0–16 levels' rounding to 0–255.
func TestWriteReadsBackAsTheDigits(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir); err != nil {
		t.Fatal(err)
	}
	f, err := data.ReadFolder(dir, data.FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Train.N != 1438 || f.Test.N != 359 || f.Shape != [3]int{1, 8, 8} || len(f.Train.Classes) != 10 {
		t.Fatalf("%d train, %d test, shape %v, classes %q", f.Train.N, f.Test.N, f.Shape, f.Train.Classes)
	}
	d, _ := data.Digits()
	for i := range f.Train.N {
		for j := range 64 {
			if v := f.Train.Value(i, j); v < 0 || v > 1 {
				t.Fatalf("sample %d, pixel %d: %v", i, j, v)
			}
		}
	}
	counts := f.Train.ClassCounts()
	for c, n := range f.Test.ClassCounts() {
		counts[c] += n
	}
	for c, n := range d.ClassCounts() {
		if counts[c] != n {
			t.Errorf("class %d: %d images, the digits have %d", c, counts[c], n)
		}
	}
}
