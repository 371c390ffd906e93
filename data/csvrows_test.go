package data

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCSVRowsReadsRowByRow(t *testing.T) {
	c, err := NewCSVRows(strings.NewReader("\uFEFFmeta\na,label,b\n1,x,2\n\n3, y ,4\n"), "t.csv", CSVOptions{Skip: 1, Header: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Width != 3 || strings.Join(c.Columns, "|") != "a|label|b" {
		t.Fatalf("width %d, columns %q", c.Width, c.Columns)
	}
	skip := []bool{false, true, false}
	var got []float64
	var lines []int
	row := make([]float64, 2)
	for {
		err := c.Next(row, skip)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row...)
		lines = append(lines, c.Line)
	}
	if want := []float64{1, 2, 3, 4}; !equalF(got, want) || lines[0] != 3 || lines[1] != 5 {
		t.Fatalf("rows %v on lines %v, want %v on lines 3 and 5", got, lines, want)
	}
}

func TestCSVRowsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		opt      CSVOptions
		want     string
	}{
		{"empty", "", CSVOptions{}, "t.csv: empty file"},
		{"header only", "a,b\n", CSVOptions{Header: true}, "t.csv: no data rows after the header"},
		{"width", "1,2\n3\n", CSVOptions{}, "t.csv: line 2: 1 fields, want 2 (as on the first row)"},
		{"not a number", "1,2\n3,x\n", CSVOptions{}, `t.csv: line 2, column 2: field "x" is not a number`},
		{"infinite", "1,Inf\n", CSVOptions{}, `t.csv: line 1, column 2: field "Inf" is not a finite number`},
		{"long field", "1," + strings.Repeat("z", 5000) + "\n", CSVOptions{}, `zzz"… (5000 bytes)`},
		{"semicolons", "1;2\n", CSVOptions{}, `it looks delimited by ';'`},
		{"binary", "1,2\n3,\x00\x01\x02", CSVOptions{}, "t.csv: byte 6: a NUL byte: binary data, not a text table"},
	} {
		err := readAllRows(tc.in, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if len(err.Error()) > 300 {
			t.Errorf("%s: a %d-byte error", tc.name, len(err.Error()))
		}
	}
	if err := readAllRows("1,\x00", CSVOptions{}); !errors.Is(err, ErrNotText) {
		t.Errorf("binary input: %v, want ErrNotText", err)
	}
}

func readAllRows(in string, opt CSVOptions) error {
	c, err := NewCSVRows(strings.NewReader(in), "t.csv", opt)
	if err != nil {
		return err
	}
	row := make([]float64, c.Width)
	for {
		if err := c.Next(row, nil); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func equalF(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestQuoteBoundsLongValues(t *testing.T) {
	if got := Quote("abc"); got != `"abc"` {
		t.Errorf("Quote(abc) = %s", got)
	}
	long := strings.Repeat("é", 4<<20)
	if got := Quote(long); len(got) > 130 || !strings.HasSuffix(got, "… (8388608 bytes)") {
		t.Errorf("Quote of 8 MiB: %d bytes: %.200s", len(got), got)
	}
}

// FuzzCSVRows checks that no input panics the row reader, that every row
// it returns has the announced width, and that it agrees with ReadCSV on
// which tables are good.
func FuzzCSVRows(f *testing.F) {
	for _, s := range []string{"1,2\n3,4\n", "a,b\n1,2\n", "\uFEFF1;2\n", "1,\"2\n", "1,2\n3\n", "\x00", "\n\n1\n"} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, header bool) {
		opt := CSVOptions{Header: header, NoLabel: true}
		c, err := NewCSVRows(bytes.NewReader(in), "f.csv", opt)
		var rows [][]float64
		if err == nil {
			for {
				row := make([]float64, c.Width)
				if err = c.Next(row, nil); err != nil {
					break
				}
				rows = append(rows, row)
			}
			if err == io.EOF {
				err = nil
			}
		}
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("%T %v: want a *FormatError", err, err)
			}
			return
		}
		if bytes.IndexByte(in, 0) >= 0 {
			return // ReadCSV does not refuse NUL bytes
		}
		d, rerr := ReadCSV(bytes.NewReader(in), "f.csv", opt)
		if rerr != nil {
			t.Fatalf("CSVRows read %d rows, ReadCSV fails: %v", len(rows), rerr)
		}
		if d.N != len(rows) {
			t.Fatalf("CSVRows read %d rows, ReadCSV %d", len(rows), d.N)
		}
		for i, row := range rows {
			for j, v := range row {
				if d.F64[i*d.Features+j] != v {
					t.Fatalf("row %d column %d: %v, ReadCSV %v", i, j, v, d.F64[i*d.Features+j])
				}
			}
		}
	})
}
