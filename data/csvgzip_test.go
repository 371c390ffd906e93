package data

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// zeroRows streams "0,0,0\n" n times: a gzip bomb's content, made as it is
// read rather than held.
type zeroRows struct{ left int }

func (z *zeroRows) Read(p []byte) (int, error) {
	const row = "0,0,0\n"
	if z.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for z.left > 0 && len(p)-n >= len(row) {
		n += copy(p[n:], row)
		z.left--
	}
	return n, nil
}

// peakHeap samples the heap in use at every read of the stream it wraps.
type peakHeap struct {
	r    io.Reader
	peak uint64
}

func (p *peakHeap) Read(b []byte) (int, error) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	p.peak = max(p.peak, m.HeapAlloc)
	return p.r.Read(b)
}

// A table costs its values, not a multiple of its text (#25: a gzip bomb
// of "0,0,0" rows grew to 9× its text). The heap's peak while reading,
// with the collector kept close behind (GOGC 5), stays within what the
// rows' values (two float64 features, an int32 label) and int32 line
// numbers take (24 bytes), with room for a slice's growth: no per-row
// string is kept until the end (41 bytes a row with int line numbers).
func TestReadCSVHoldsRowsCompactly(t *testing.T) {
	const rows = 500_000
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := io.Copy(zw, io.MultiReader(&zeroRows{rows}, strings.NewReader("1,1,1\n"))); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	r, err := MaybeGzip(&gz, "bomb.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	ph := &peakHeap{r: r}
	d, err := ReadCSV(ph, "bomb.csv.gz", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != rows+1 || d.Features != 2 || len(d.Classes) != 2 {
		t.Fatalf("%d rows, %d features, classes %q", d.N, d.Features, d.Classes)
	}
	perRow := float64(ph.peak-before.HeapAlloc) / rows
	t.Logf("peak heap %.1f bytes per row of 6 bytes of text", perRow)
	if perRow > 40 {
		t.Errorf("peak heap %.1f bytes per row of 6 bytes of text; want ≤ 40 (24 for the values, a label and a line number, and a slice's growth)", perRow)
	}
}

// FuzzReadCSVGzip reads gzip streams (the fuzzer mutates the compressed
// bytes): every failure names the file, and what is read is consistent,
// raw or not.
func FuzzReadCSVGzip(f *testing.F) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	for _, p := range []string{"testdata/iris.csv", "testdata/weather.csv", "testdata/onehot_input.csv"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		z := gz(b)
		f.Add(z, true, false)
		f.Add(z[:len(z)/2], true, true) // cut short
	}
	f.Add(gz([]byte("a,b,y\n1,NA,x\n2,red,y\n?,blue,x\n")), true, true)
	f.Add(append(gz([]byte("1,2,0\n")), gz([]byte("3,4,1\n"))...), false, false) // two members
	f.Fuzz(func(t *testing.T, b []byte, header, raw bool) {
		r, err := MaybeGzip(bytes.NewReader(b), "fuzz.csv.gz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv.gz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		d, err := ReadCSV(r, "fuzz.csv.gz", CSVOptions{Header: header, Raw: raw})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.csv.gz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(d.F64) != d.N*d.Features || len(d.Labels) != d.N || len(d.RowLines) != d.N {
			t.Fatalf("%d values, %d labels, %d lines for %d×%d", len(d.F64), len(d.Labels), len(d.RowLines), d.N, d.Features)
		}
		for i, v := range d.F64 {
			j := i % d.Features
			switch {
			case math.IsInf(v, 0), math.IsNaN(v) && !raw:
				t.Fatalf("value %g got through", v)
			case raw && d.Levels[j] != nil && !math.IsNaN(v) && (v != math.Trunc(v) || v < 0 || int(v) >= len(d.Levels[j])):
				t.Fatalf("column %d: level %g of %d", j, v, len(d.Levels[j]))
			}
		}
		for _, l := range d.Labels {
			if l < 0 || int(l) >= len(d.Classes) {
				t.Fatalf("label %d of %d classes", l, len(d.Classes))
			}
		}
		if raw {
			// Whatever was read, a Preprocess fitted on it encodes it or says why.
			if p, err := FitPreprocess(d, PrepOptions{Impute: "most_frequent"}); err == nil {
				if enc, _, err := p.Apply(d); err != nil || len(enc.F64) != d.N*p.Features() {
					t.Fatalf("a preprocessing fitted on the table does not apply to it: %v", err)
				}
			}
		}
	})
}

// With the model's classes known (eval), a label outside them stops the
// read at its line, before the rest of the stream is read.
func TestReadCSVRefusesAnUnknownClassWhileStreaming(t *testing.T) {
	r := &peakHeap{r: io.MultiReader(strings.NewReader("1,2,a\n3,4,z\n"), &zeroRows{1 << 20})}
	_, err := ReadCSV(r, "t.csv", CSVOptions{Classes: []string{"a", "b"}})
	if err == nil || !strings.Contains(err.Error(), `t.csv: line 2: class "z" is not one of the model's classes ["a" "b"]`) {
		t.Fatalf("%v", err)
	}
	var rest bytes.Buffer
	if n, _ := io.Copy(&rest, r.r); n < 6<<20 {
		t.Errorf("the read went on through %d bytes of the stream after the bad line", 6<<20-n)
	}
}
