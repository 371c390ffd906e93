package data

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A table whose decoded rows pass CSVOptions.MaxTableBytes stops at the
// row that passes it, naming the line, the bound and the row's cost, with
// ErrTableTooLarge as its source; a table at the bound is read whole.
func TestReadCSVMaxTableBytes(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b,y\n")
	for i := range 100 {
		fmt.Fprintf(&b, "%d,%d,%d\n", i, 2*i, i%2)
	}
	text := b.String()
	for _, c := range []struct {
		name  string
		opt   CSVOptions
		row   int64 // bytes a row
		limit int64
		fail  int // the row that fails, 0 for none
	}{
		{"classes", CSVOptions{Header: true}, 8*2 + 4 + 4, 24 * 100, 0},
		{"classes, one row short", CSVOptions{Header: true}, 24, 24*100 - 1, 100},
		{"classes, 10 rows", CSVOptions{Header: true}, 24, 24 * 10, 11},
		{"regression", CSVOptions{Header: true, Task: Regression}, 8*2 + 8 + 4, 28 * 50, 51},
		{"features only", CSVOptions{Header: true, NoLabel: true, Label: "y"}, 8*2 + 4, 20 * 7, 8},
		{"raw", CSVOptions{Header: true, Raw: true}, 24, 24 * 3, 4},
	} {
		c.opt.MaxTableBytes = c.limit
		d, err := ReadCSV(strings.NewReader(text), "t.csv", c.opt)
		if c.fail == 0 {
			if err != nil || d.N != 100 {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		want := fmt.Sprintf("t.csv: line %d: the table's decoded rows pass their bound of %s at row %d (%d bytes a row", c.fail+1, sizeText(c.limit), c.fail, c.row)
		if err == nil || !errors.Is(err, ErrTableTooLarge) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q…", c.name, err, want)
		}
	}
	if s := sizeText(DefaultMaxTableBytes); s != "1 GiB" {
		t.Errorf("the default bound reads %q", s)
	}
}
