package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// sharedDatasets is ../shared/datasets beside the repository root.
func sharedDatasets(t testing.TB) string {
	dir := filepath.Join("..", "..", "shared", "datasets")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared datasets not found at %s", dir)
	}
	return dir
}

func idxBytes(magic uint32, dims []uint32, payload []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		_ = binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(payload)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	_, _ = w.Write(b)
	_ = w.Close()
	return out.Bytes()
}

func TestReadIDX(t *testing.T) {
	good := idxBytes(0x803, []uint32{2, 2, 3}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	for _, in := range [][]byte{good, gz(good)} {
		r, err := MaybeGzip(bytes.NewReader(in), "good")
		if err != nil {
			t.Fatal(err)
		}
		x, err := ReadIDX(r, "good")
		if err != nil {
			t.Fatal(err)
		}
		if len(x.Dims) != 3 || x.Dims[2] != 3 || x.Data[11] != 12 {
			t.Fatalf("read %+v", x)
		}
	}
}

func TestReadIDXRejects(t *testing.T) {
	good := idxBytes(0x803, []uint32{2, 2, 3}, make([]byte, 12))
	truncGz := gz(good)
	truncGz = truncGz[:len(truncGz)-10]
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated magic"},
		{"wrong magic", idxBytes(0x12345678, nil, nil), "bad IDX magic"},
		{"float type", idxBytes(0x0D03, []uint32{1, 1, 1}, make([]byte, 4)), "not supported"},
		{"zero dims", idxBytes(0x800, nil, nil), "0 dimensions"},
		{"truncated header", good[:9], "truncated header"},
		{"zero dimension", idxBytes(0x801, []uint32{0}, nil), "dimension 1 is 0"},
		{"short payload", good[:len(good)-1], "file ends after 11 of the 12"},
		{"long payload", append(append([]byte(nil), good...), 7), "data continues past"},
		{"truncated gzip", truncGz, "truncated gzip data in f.idx"},
		{"hostile count", idxBytes(0x803, []uint32{1 << 31, 28, 28}, make([]byte, 100)), "announce more than"},
		{"big but under limit", idxBytes(0x803, []uint32{1 << 20, 28, 28}, make([]byte, 100)), "file ends after 100 of"},
	} {
		r, err := MaybeGzip(bytes.NewReader(tc.in), "f.idx")
		if err == nil {
			_, err = ReadIDX(r, "f.idx")
		}
		var fe *FormatError
		var ge *GzipError
		if err == nil || !(errors.As(err, &fe) || errors.As(err, &ge)) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "f.idx") {
			t.Errorf("%s: error %v, want a FormatError or GzipError naming f.idx and containing %q", tc.name, err, tc.want)
		}
	}
}

// TestReadIDXHostileHeaderAllocatesLittle: a header announcing 800 MB with
// 100 bytes behind it must fail without allocating anything like 800 MB.
func TestReadIDXHostileHeaderAllocatesLittle(t *testing.T) {
	in := idxBytes(0x803, []uint32{1 << 20, 28, 28}, make([]byte, 100))
	// Bytes allocated per read, from the heap's running total (which a
	// collection does not lower); nothing else runs in parallel here.
	const reads = 2
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range reads {
		_, _ = ReadIDX(bytes.NewReader(in), "hostile")
	}
	runtime.ReadMemStats(&after)
	if allocs := (after.TotalAlloc - before.TotalAlloc) / reads; allocs > 2*maxPrealloc {
		t.Fatalf("allocated %d bytes for a 116-byte file", allocs)
	}
}

func TestLoadIDXPairChecksCountsAndLabels(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		_ = os.WriteFile(p, b, 0o644)
		return p
	}
	img := write("img", idxBytes(0x803, []uint32{2, 1, 2}, []byte{0, 255, 51, 102}))
	lab := write("lab", idxBytes(0x801, []uint32{2}, []byte{3, 1}))
	d, err := LoadIDXPair(img, lab, "t", digitNames)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]float32, 2)
	FillRow(d, 1, row)
	if row[0] != 0.2 || row[1] != 0.4 || d.Labels[0] != 3 {
		t.Fatalf("row %v labels %v", row, d.Labels)
	}
	lab3 := write("lab3", idxBytes(0x801, []uint32{3}, []byte{3, 1, 2}))
	if _, err := LoadIDXPair(img, lab3, "t", digitNames); err == nil || !strings.Contains(err.Error(), "2 images but") {
		t.Errorf("count mismatch: %v", err)
	}
	labBad := write("labbad", idxBytes(0x801, []uint32{2}, []byte{3, 10}))
	if _, err := LoadIDXPair(img, labBad, "t", digitNames); err == nil || !strings.Contains(err.Error(), "label 10 of sample 1") || !strings.Contains(err.Error(), "byte 9") {
		t.Errorf("label out of range: %v", err)
	}
	if _, _, err := LoadMNIST(dir, true); err == nil || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") || !strings.Contains(err.Error(), dir) {
		t.Errorf("missing files: %v", err)
	}
}

func TestLoadMNISTClassCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 12 MB of gzip")
	}
	train, test, err := LoadMNIST(filepath.Join(sharedDatasets(t), "mnist"), false)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || train.Features != 784 {
		t.Fatalf("train %d test %d features %d", train.N, test.N, train.Features)
	}
	wantTrain := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	wantTest := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	for c, n := range train.ClassCounts() {
		if n != wantTrain[c] || test.ClassCounts()[c] != wantTest[c] {
			t.Fatalf("class %d: %d train, %d test", c, n, test.ClassCounts()[c])
		}
	}
	if got := train.Labels[:4]; got[0] != 5 || got[1] != 0 || got[2] != 4 || got[3] != 1 {
		t.Fatalf("first labels %v, want 5 0 4 1", got)
	}
	if len(train.U8) != 60000*784 || train.F64 != nil {
		t.Fatal("MNIST images must stay uint8")
	}
}

func TestReadCSVFeaturesAndClasses(t *testing.T) {
	d, err := ReadCSVFile("testdata/weather.csv", CSVOptions{Comma: ';', Header: true, Label: "outlook"})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 4 || d.Features != 3 || strings.Join(d.Classes, ",") != "cloudy,rain,sunny" {
		t.Fatalf("N %d features %d classes %v", d.N, d.Features, d.Classes)
	}
	if d.Labels[0] != 2 || d.Labels[1] != 1 || d.Value(0, 0) != 21.5 || d.Columns[2] != "wind" {
		t.Fatalf("labels %v first row %v columns %v", d.Labels, d.F64[:3], d.Columns)
	}
	// A model's classes fix the order; unknown classes are errors.
	d2, err := ReadCSVFile("testdata/weather.csv", CSVOptions{Comma: ';', Header: true, Label: "3", Classes: []string{"sunny", "rain", "cloudy", "snow"}})
	if err != nil || d2.Labels[0] != 0 || len(d2.Classes) != 4 {
		t.Fatalf("known classes: %v %v", err, d2)
	}
	_, err = ReadCSVFile("testdata/weather.csv", CSVOptions{Comma: ';', Header: true, Classes: []string{"sunny", "rain"}})
	if err == nil || !strings.Contains(err.Error(), `line 4: class "cloudy"`) {
		t.Fatalf("unknown class: %v", err)
	}
	// sklearn layout: a metadata line, then numeric classes in the last column.
	iris, err := ReadCSVFile("testdata/iris.csv", CSVOptions{Skip: 1})
	if err != nil {
		t.Fatal(err)
	}
	if iris.N != 150 || iris.Features != 4 || len(iris.Classes) != 3 || iris.ClassCounts()[2] != 50 {
		t.Fatalf("iris: %d rows, %d features, classes %v", iris.N, iris.Features, iris.Classes)
	}
}

func TestReadCSVRegression(t *testing.T) {
	d, err := ReadCSVFile("testdata/houses.csv", CSVOptions{Header: true, Label: "price,tax", Task: Regression})
	if err != nil {
		t.Fatal(err)
	}
	if d.Outputs != 2 || d.Features != 2 || d.Targets[2] != 180 || d.Targets[5] != 8 || d.Value(2, 1) != 4 {
		t.Fatalf("outputs %d features %d targets %v", d.Outputs, d.Features, d.Targets)
	}
	y := make([]float32, 2)
	FillTarget(d, 1, y)
	if y[0] != 180 || y[1] != 5.5 {
		t.Fatalf("target row %v", y)
	}
}

func TestReadCSVRejects(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		opt      CSVOptions
		want     string
	}{
		{"empty", "", CSVOptions{}, "empty file"},
		{"header only", "a,b,c\n", CSVOptions{Header: true}, "no data rows after the header"},
		{"wrong field count", "1,2,0\n3,4\n", CSVOptions{}, "line 2: 2 fields, want 3"},
		{"not a number", "1,2,0\n3,x,1\n", CSVOptions{}, `line 2, column 2: field "x" is not a number`},
		{"NaN", "1,2,0\nNaN,1,1\n", CSVOptions{}, "line 2, column 1: field \"NaN\" is not a finite"},
		{"Inf", "1,+Inf,0\n", CSVOptions{}, "not a finite"},
		{"unknown label", "a,b\n1,2\n", CSVOptions{Header: true, Label: "c"}, `no label column "c"`},
		{"label without header", "1,2\n", CSVOptions{Label: "c"}, "no header"},
		{"label out of range", "1,2\n", CSVOptions{Label: "5"}, "out of range"},
		{"one class", "1,0\n2,0\n", CSVOptions{}, "only one class"},
		{"bad quoting", "1,\"2,0\n", CSVOptions{}, "line 1"},
		{"regression non-number", "1,x\n", CSVOptions{Task: Regression}, "column 2"},
		{"skip past end", "1,0\n", CSVOptions{Skip: 3}, "empty file"},
		{"several labels for classes", "1,2,3\n", CSVOptions{Label: "0,1"}, "only regression"},
	} {
		_, err := ReadCSV(strings.NewReader(tc.in), "t.csv", tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "t.csv") {
			t.Errorf("%s: error %v, want one naming t.csv and containing %q", tc.name, err, tc.want)
		}
	}
}

func TestDigitsEmbedded(t *testing.T) {
	d, err := Digits()
	if err != nil {
		t.Fatal(err)
	}
	want := []int{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}
	for c, n := range d.ClassCounts() {
		if n != want[c] {
			t.Fatalf("class %d: %d samples, want %d", c, n, want[c])
		}
	}
	if d.N != 1797 || d.Features != 64 || d.Value(0, 2) != 5.0/16 {
		t.Fatalf("N %d features %d x[0][2] %v", d.N, d.Features, d.Value(0, 2))
	}
}

func TestNormalizationFitsOnTrainOnly(t *testing.T) {
	d, _ := Synthetic("regression", 1000, 1)
	train, val, err := d.Split(0.2, 7)
	if err != nil || train.N != 800 || val.N != 200 {
		t.Fatalf("split: %v %d %d", err, train.N, val.N)
	}
	tf, err := FitTransform(train, "zscore")
	if err != nil {
		t.Fatal(err)
	}
	tf.Apply(train)
	tf.Apply(val)
	for j := 0; j < 2; j++ {
		var s, ss float64
		for i := 0; i < train.N; i++ {
			v := train.Value(i, j)
			s += v
			ss += v * v
		}
		if m, sd := s/800, math.Sqrt(ss/800-(s/800)*(s/800)); math.Abs(m) > 1e-9 || math.Abs(sd-1) > 1e-9 {
			t.Fatalf("train feature %d: mean %v sd %v", j, m, sd)
		}
	}
	if val.Scale[0] != train.Scale[0] {
		t.Fatal("validation got its own statistics")
	}
	mm, _ := FitTransform(train, "minmax")
	mm.Apply(train)
	for i := 0; i < train.N; i++ {
		if v := train.Value(i, 0); v < 0 || v > 1 {
			t.Fatalf("minmax value %v outside [0,1]", v)
		}
	}
	if _, err := FitTransform(train, "l2"); err == nil {
		t.Fatal("unknown normalization accepted")
	}
	// A constant column is centred, not divided by zero.
	c := &Dataset{N: 3, Features: 1, F64: []float64{5, 5, 5}}
	z, _ := FitTransform(c, "zscore")
	z.Apply(c)
	if c.Value(1, 0) != 0 {
		t.Fatalf("constant column → %v", c.Value(1, 0))
	}
}

func TestShardSizesDifferByAtMostOne(t *testing.T) {
	for n := 0; n < 40; n++ {
		for w := 1; w < 9; w++ {
			next, small, big := 0, n, 0
			for i := 0; i < w; i++ {
				lo, hi := Shard(n, w, i)
				if lo != next {
					t.Fatalf("Shard(%d,%d,%d) starts at %d, want %d", n, w, i, lo, next)
				}
				next = hi
				small, big = min(small, hi-lo), max(big, hi-lo)
			}
			if next != n || big-small > 1 {
				t.Fatalf("Shard(%d, %d): covers %d, sizes %d..%d", n, w, next, small, big)
			}
		}
	}
}

func TestBatcherEpochsAreSeededAndComplete(t *testing.T) {
	d, _ := Synthetic("blobs", 10, 1)
	b, err := NewBatcher[float64](d, 4, 3, true, 42)
	if err != nil {
		t.Fatal(err)
	}
	x, y := make([]float64, 4*2), make([]float64, 4*3)
	order := func() []float64 {
		var firsts []float64
		seen := 0
		for n := b.Next(x, y); n > 0; n = b.Next(x, y) {
			for r := 0; r < n; r++ {
				firsts = append(firsts, x[2*r])
			}
			seen += n
		}
		if seen != 10 {
			t.Fatalf("an epoch visited %d samples", seen)
		}
		return firsts
	}
	b.Epoch(3)
	a := order()
	b.Epoch(4)
	c := order()
	b.Epoch(3)
	a2 := order()
	for i := range a {
		if a[i] != a2[i] {
			t.Fatal("epoch 3 differs between two walks")
		}
	}
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Fatal("epochs 3 and 4 have the same order")
	}
	if b.Batches() != 3 {
		t.Fatalf("%d batches for 10 samples of 4", b.Batches())
	}
	if _, err := NewBatcher[float64](d, 4, 5, true, 1); err == nil {
		t.Fatal("a 5-output model accepted for 3 classes")
	}
}

func TestBatcherAndShardDoNotAllocate(t *testing.T) {
	d, _ := Synthetic("spirals", 1000, 1)
	b, _ := NewBatcher[float32](d, 100, 2, true, 1)
	x, y := make([]float32, 200), make([]float32, 200)
	allocs := testing.AllocsPerRun(50, func() {
		if b.Next(x, y) == 0 {
			b.Epoch(1)
		}
		_, _ = Shard(100, 3, 1)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per batch", allocs)
	}
}

func TestSyntheticIsSeeded(t *testing.T) {
	for _, k := range []string{"xor", "spirals", "blobs", "regression"} {
		a, _ := Synthetic(k, 50, 9)
		b, _ := Synthetic(k, 50, 9)
		c, _ := Synthetic(k, 50, 10)
		if a.F64[7] != b.F64[7] || a.F64[7] == c.F64[7] {
			t.Errorf("%s: not determined by its seed", k)
		}
	}
	if _, err := Synthetic("moons", 10, 1); err == nil {
		t.Error("unknown synthetic set accepted")
	}
}

func FuzzReadIDX(f *testing.F) {
	for _, p := range []string{"testdata/tiny-images-idx3-ubyte", "testdata/tiny-labels-idx1-ubyte.gz"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := MaybeGzip(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		x, err := ReadIDX(io.LimitReader(r, 1<<20), "fuzz")
		if err != nil {
			var fe *FormatError
			var ge *GzipError
			if !errors.As(err, &fe) && !errors.As(err, &ge) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if n != len(x.Data) {
			t.Fatalf("dims %v but %d bytes", x.Dims, len(x.Data))
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	for _, p := range []string{"testdata/iris.csv", "testdata/weather.csv", "testdata/houses.csv"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true, false, false)
	}
	f.Add([]byte("\uFEFFa,b,label\n1,2,x\n3,4,y\n"), true, false, false)
	f.Add([]byte("a;b;label\n1;2;x\n3;4;y\n"), true, false, false)
	f.Add([]byte("a,b,label\n1,NA,x\n2.0,red,y\n?,2,x\n"), true, false, true)
	f.Fuzz(func(t *testing.T, b []byte, header, regression, raw bool) {
		task := Classification
		if regression {
			task = Regression
		}
		d, err := ReadCSV(bytes.NewReader(b), "fuzz.csv", CSVOptions{Header: header, Task: task, Raw: raw})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(d.F64) != d.N*d.Features {
			t.Fatalf("%d values for %d×%d", len(d.F64), d.N, d.Features)
		}
		for i, v := range d.F64 {
			j := i % d.Features
			switch {
			case math.IsInf(v, 0), math.IsNaN(v) && !raw:
				t.Fatal("non-finite value got through")
			case raw && d.Levels[j] != nil && !math.IsNaN(v) && (v != math.Trunc(v) || v < 0 || int(v) >= len(d.Levels[j])):
				t.Fatalf("column %d: level %g of %d", j, v, len(d.Levels[j]))
			}
		}
		if task == Classification {
			for _, l := range d.Labels {
				if l < 0 || int(l) >= len(d.Classes) {
					t.Fatalf("label %d of %d classes", l, len(d.Classes))
				}
			}
		}
	})
}

func TestSplitMatchesCopyingSubsets(t *testing.T) {
	orig, _ := Synthetic("blobs", 101, 4)
	ref, _ := Synthetic("blobs", 101, 4)
	train, held, err := orig.Split(0.3, 9)
	if err != nil {
		t.Fatal(err)
	}
	// The same selection, by the copying Subset: the rows of each side in
	// file order.
	perm := rand.New(rand.NewPCG(9, 0x5eed)).Perm(101)
	tr, te := perm[:71], perm[71:]
	slices.Sort(tr)
	slices.Sort(te)
	for _, c := range []struct {
		got  *Dataset
		want *Dataset
	}{{train, ref.Subset("t", tr)}, {held, ref.Subset("h", te)}} {
		if c.got.N != c.want.N || !slices.Equal(c.got.F64, c.want.F64) || !slices.Equal(c.got.Labels, c.want.Labels) {
			t.Fatalf("in-place split differs from the copying one (%d vs %d rows)", c.got.N, c.want.N)
		}
	}
	if &train.F64[0] != &orig.F64[0] || cap(train.F64) != 71*2 {
		t.Fatal("Split copied the data or let train reach past its rows")
	}
}

// Prediction input: features only; a header column that Label names is
// skipped (it may hold string classes), and its absence is no error.
func TestReadCSVNoLabelSkipsTheNamedColumn(t *testing.T) {
	for _, tc := range []struct {
		name, csv, label string
		header           bool
		want             []float64
		cols             []string
	}{
		{"label present", "a,species,b\n1,x,2\n3,y,4\n", "species", true, []float64{1, 2, 3, 4}, []string{"a", "b"}},
		{"label absent", "a,b\n1,2\n3,4\n", "species", true, []float64{1, 2, 3, 4}, []string{"a", "b"}},
		{"index label keeps every column", "a,b\n1,2\n3,4\n", "1", true, []float64{1, 2, 3, 4}, []string{"a", "b"}},
		{"no header", "1,2\n3,4\n", "species", false, []float64{1, 2, 3, 4}, nil},
	} {
		d, err := ReadCSV(strings.NewReader(tc.csv), "in.csv", CSVOptions{Header: tc.header, Label: tc.label, NoLabel: true})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if d.N != 2 || d.Features != 2 || !slices.Equal(d.F64, tc.want) || !slices.Equal(d.Columns, tc.cols) {
			t.Errorf("%s: N %d, features %d, values %v, columns %v; want 2, 2, %v, %v", tc.name, d.N, d.Features, d.F64, d.Columns, tc.want, tc.cols)
		}
	}
}
