package data

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// A table read two rows at a time by CSVRows.ReadRaw and encoded batch by
// batch is encoded as ReadCSV's whole raw table is: the same features, a
// column's texts interned per batch (a column numeric in one batch and
// text in the next included), the rows' lines kept.
func TestCSVRowsReadRawEncodesAsReadCSV(t *testing.T) {
	train := "a,colour,code,y\n1,red,7,0\n2,blue,x,1\nNA,red,7,0\n4,green,8,1\n"
	raw := rawCSV(t, train, CSVOptions{Header: true, Label: "y"})
	p, err := FitPreprocess(raw, PrepOptions{Impute: "median", Categorical: []string{"code"}})
	if err != nil {
		t.Fatal(err)
	}
	in := "y,code,colour,a\n0,7,red,1\n1,8,blue,NA\n0,x,green,3\n\n1,7,red,5\n0,8,blue,6\n"
	whole := rawCSV(t, in, CSVOptions{Header: true, NoLabel: true})
	want, _, err := p.Apply(whole)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCSVRows(strings.NewReader(in), "in.csv", CSVOptions{Header: true})
	if err != nil {
		t.Fatal(err)
	}
	skip := []bool{true, false, false, false} // the label column
	var got [][]float64
	var lines []int32
	batch := &Dataset{}
	for {
		err := c.ReadRaw(batch, 2, skip, nil)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if batch.N > 0 {
			if !slices.Equal(batch.Columns, []string{"code", "colour", "a"}) || !slices.Equal(batch.Source, []int{1, 2, 3}) {
				t.Fatalf("columns %q from %v", batch.Columns, batch.Source)
			}
			enc, _, aerr := p.Apply(batch)
			if aerr != nil {
				t.Fatal(aerr)
			}
			got = append(got, rows(enc)...)
			lines = append(lines, batch.RowLines...)
		}
		if err == io.EOF {
			break
		}
	}
	if !slices.EqualFunc(got, rows(want), slices.Equal) {
		t.Errorf("by batches %v, want %v", got, rows(want))
	}
	if !slices.Equal(lines, []int32{2, 3, 4, 6, 7}) {
		t.Errorf("lines %v, want [2 3 4 6 7]", lines)
	}
}

func TestCSVRowsReadRawStopsAtABadCell(t *testing.T) {
	c, err := NewCSVRows(strings.NewReader("1,a\n2,b\n3,Inf\n"), "t.csv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &Dataset{}
	err = c.ReadRaw(d, 10, nil, nil)
	if err == nil || !strings.Contains(err.Error(), `t.csv: line 3, column 2: field "Inf" is not a finite number`) {
		t.Fatalf("error %v", err)
	}
	if d.N != 2 || len(d.F64) != 4 || !slices.Equal(d.Levels[1], []string{"a", "b"}) {
		t.Errorf("the rows before the bad one: %d rows, %v, levels %q", d.N, d.F64, d.Levels)
	}
}
