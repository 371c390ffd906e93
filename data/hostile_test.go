package data

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Inputs that are damaged, hostile or merely unusual: a byte-order mark,
// the wrong delimiter, cut gzip streams, files without line breaks.

func TestReadCSVByteOrderMarkAndDelimiterHints(t *testing.T) {
	d, err := ReadCSV(strings.NewReader("\uFEFFa,b,label\n1,2,x\n3,4,y\n"), "bom.csv", CSVOptions{Header: true, Label: "label"})
	if err != nil || d.Columns[0] != "a" || d.N != 2 {
		t.Fatalf("a CSV with a byte-order mark: %v, %+v", err, d)
	}
	d, err = ReadCSV(strings.NewReader("\uFEFF1,2,0\n3,4,1\n"), "bom.csv", CSVOptions{})
	if err != nil || d.F64[0] != 1 {
		t.Fatalf("a CSV with a byte-order mark and no header: %v", err)
	}
	for _, tc := range []struct {
		name, in string
		opt      CSVOptions
		want     string
	}{
		{"semicolons", "a;b;label\n1;2;x\n3;4;y\n", CSVOptions{Header: true}, `it looks delimited by ';': -csv-delim ';')`},
		{"tabs", "1\t2\t0\n3\t4\t1\n", CSVOptions{}, `looks delimited by '\t'`},
		{"features only", "1;2\n3;4\n", CSVOptions{NoLabel: true}, `field "1;2" is not a number (the row did not split at ','; it looks delimited by ';'`},
		{"commas, told semicolons", "1,2,0\n3,4,1\n", CSVOptions{Comma: ';'}, `looks delimited by ','`},
	} {
		_, err := ReadCSV(strings.NewReader(tc.in), "t.csv", tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "t.csv") {
			t.Errorf("%s: %v, want an error naming t.csv with %q", tc.name, err, tc.want)
		}
	}
	// A field that merely holds a semicolon, in a row that did split, gets
	// no hint.
	_, err = ReadCSV(strings.NewReader("1,2;3,0\n"), "t.csv", CSVOptions{})
	if err == nil || strings.Contains(err.Error(), "delimited") {
		t.Errorf("one odd field: %v", err)
	}
}

func TestTruncatedGzipSaysSo(t *testing.T) {
	dir := t.TempDir()
	var csvGz bytes.Buffer
	zw := gzip.NewWriter(&csvGz)
	for i := range 2000 {
		fmt.Fprintf(zw, "%d,%d,%d\n", i, i*7%13, i%2)
	}
	zw.Close()
	labels, err := os.ReadFile("testdata/tiny-labels-idx1-ubyte.gz")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"t.csv.gz": csvGz.Bytes(), "labels.gz": labels} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b[:len(b)*2/3], 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".csv.gz") {
			_, err = ReadCSVFile(p, CSVOptions{})
		} else {
			_, err = ReadIDXFile(p)
		}
		if err == nil || err.Error() != "truncated gzip data in "+p+" (the file was cut short)" {
			t.Errorf("%s cut short: %v", name, err)
		}
		// A flipped byte in the body fails the checksum (or the inflater).
		c := bytes.Clone(b)
		c[len(c)-6] ^= 0xff
		_ = os.WriteFile(p, c, 0o644)
		if strings.HasSuffix(name, ".csv.gz") {
			_, err = ReadCSVFile(p, CSVOptions{})
		} else {
			_, err = ReadIDXFile(p)
		}
		if err == nil || !strings.Contains(err.Error(), "gzip data in "+p) {
			t.Errorf("%s with a bad checksum: %v", name, err)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A stream with no line breaks (a binary file, /dev/zero) is refused after
// a bounded read, not read whole into one line.
func TestReadCSVBoundsTheLineLength(t *testing.T) {
	var r io.Reader = zeros{}
	_, err := ReadCSV(io.MultiReader(strings.NewReader("a,b,c\n1,2,3\n"), r), "zero.csv", CSVOptions{Header: true})
	if err == nil || err.Error() != "zero.csv: line 3: no line break in 16 MiB: not a text table" {
		t.Fatalf("%v", err)
	}
}
