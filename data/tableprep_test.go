package data

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func rawCSV(t *testing.T, text string, opt CSVOptions) *Dataset {
	t.Helper()
	opt.Raw = true
	d, err := ReadCSV(strings.NewReader(text), "t.csv", opt)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rows is d's features as rows, for comparisons.
func rows(d *Dataset) [][]float64 {
	var r [][]float64
	for i := range d.N {
		r = append(r, d.F64[i*d.Features:(i+1)*d.Features])
	}
	return r
}

func TestPreprocessMatchesColumnsByName(t *testing.T) {
	train := rawCSV(t, "a,color,b,y\n1,red,10,0\n2,blue,20,1\n3,red,30,0\n", CSVOptions{Header: true, Label: "y"})
	p, err := FitPreprocess(train, PrepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := p.Apply(train)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(want.Columns, []string{"a", "color=blue", "color=red", "b"}) {
		t.Fatalf("features %q", want.Columns)
	}
	// The same rows, the columns reordered and one more: the same features,
	// and a warning that names the extra column.
	other := rawCSV(t, "b,notes,y,color,a\n10,x,0,red,1\n20,y,1,blue,2\n30,z,0,red,3\n", CSVOptions{Header: true, Label: "y"})
	got, warn, err := p.Apply(other)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(rows(got), rows(want), slices.Equal) {
		t.Errorf("reordered columns: %v, want %v", rows(got), rows(want))
	}
	if len(warn) != 1 || !strings.Contains(warn[0], `"notes"`) {
		t.Errorf("warnings %q, want one naming the extra column", warn)
	}
	// Prediction input read without a label: the training file's label
	// column is ignored without a warning.
	rowsIn := rawCSV(t, "y,a,b,color\n0,1,10,red\n1,2,20,blue\n", CSVOptions{Header: true, NoLabel: true})
	if _, warn, err := p.Apply(rowsIn); err != nil || len(warn) != 0 {
		t.Errorf("prediction rows with the label column: %v, warnings %q", err, warn)
	}
	// A trained column missing is refused, by name.
	lack := rawCSV(t, "b,y,a\n10,0,1\n20,1,2\n", CSVOptions{Header: true, Label: "y"})
	if _, _, err := p.Apply(lack); err == nil || !strings.Contains(err.Error(), `no column "color"`) {
		t.Errorf("a file without a trained column: %v", err)
	}
	// Without a header: by position, and another width is refused.
	bare := rawCSV(t, "1,red,10,0\n2,blue,20,1\n", CSVOptions{})
	if got, _, err := p.Apply(bare); err != nil || !slices.Equal(got.F64, want.F64[:8]) {
		t.Errorf("no header: %v %v", got, err)
	}
	wide := rawCSV(t, "1,red,10,5,0\n2,blue,20,5,1\n", CSVOptions{})
	if _, _, err := p.Apply(wide); err == nil || !strings.Contains(err.Error(), "4 feature columns, the model was trained on 3") {
		t.Errorf("a wider file without a header: %v", err)
	}
}

func TestPreprocessImputesTheTrainingMedian(t *testing.T) {
	// Column x: 4, NA, 1, 10, 7 (train, rows 0-4) and NaN, ? (others).
	d := rawCSV(t, "x,z,y\n4,1,a\nNA,2,b\n1,3,a\n10,,b\n7,5,a\nNaN,6,b\n?,7,a\n", CSVOptions{Header: true, Label: "y"})
	train := d.rows("train", 0, 5)
	if _, err := FitPreprocess(train, PrepOptions{}); err == nil || !strings.Contains(err.Error(), `column "x" of train: 1 of 5 cells in the training split are missing`) || !strings.Contains(err.Error(), "-impute") {
		t.Fatalf("missing cells without -impute: %v", err)
	}
	p, err := FitPreprocess(train, PrepOptions{Impute: "median", Indicators: true})
	if err != nil {
		t.Fatal(err)
	}
	// By hand: x present in the training rows 4, 1, 10, 7 → median (4+7)/2;
	// z present 1, 2, 3, 5 → (2+3)/2. Only held-out rows miss x.
	if p.Columns[0].Fill != 5.5 || p.Columns[1].Fill != 2.5 {
		t.Fatalf("medians %g, %g; want 5.5, 2.5", p.Columns[0].Fill, p.Columns[1].Fill)
	}
	all, _, err := p.Apply(d)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{4, 0, 1, 0}, {5.5, 1, 2, 0}, {1, 0, 3, 0}, {10, 0, 2.5, 1}, {7, 0, 5, 0}, {5.5, 1, 6, 0}, {5.5, 1, 7, 0}}
	if !slices.EqualFunc(rows(all), want, slices.Equal) {
		t.Errorf("imputed %v, want %v", rows(all), want)
	}
	if !slices.Equal(all.Columns, []string{"x", "x_missing", "z", "z_missing"}) {
		t.Errorf("names %q", all.Columns)
	}
	for _, tc := range []struct {
		impute string
		x      float64
	}{{"mean", 5.5}, {"zero", 0}, {"most_frequent", 1}} {
		p, err := FitPreprocess(train, PrepOptions{Impute: tc.impute})
		if err != nil || p.Columns[0].Fill != tc.x {
			t.Errorf("-impute %s: %v, fill %g, want %g", tc.impute, err, p.Columns[0].Fill, tc.x)
		}
	}
}

func TestPreprocessOneHotUnseenAndForced(t *testing.T) {
	d := rawCSV(t, "size,code,y\nM,3,a\nS,1,b\nL,3.0,a\nM,2,b\nXL,1,a\n", CSVOptions{Header: true, Label: "y"})
	train := d.rows("train", 0, 4)
	p, err := FitPreprocess(train, PrepOptions{Categorical: []string{"code"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Columns[0]; !c.Categorical || !slices.Equal(c.Categories, []string{"L", "M", "S"}) {
		t.Errorf("size: %+v", c)
	}
	if c := p.Columns[1]; !c.Categorical || !slices.Equal(c.Categories, []string{"1", "2", "3"}) {
		t.Errorf("code, forced: %+v (3.0 is 3)", c)
	}
	all, warn, err := p.Apply(d)
	if err != nil {
		t.Fatal(err)
	}
	if last := rows(all)[4]; !slices.Equal(last, []float64{0, 0, 0, 1, 0, 0}) {
		t.Errorf("an unseen size: %v, want all zeros for it", last)
	}
	if len(warn) != 1 || !strings.Contains(warn[0], `"XL"`) {
		t.Errorf("warnings %q", warn)
	}
	// Text where the model was trained on numbers is refused.
	q, _ := FitPreprocess(train, PrepOptions{})
	bad := rawCSV(t, "size,code,y\nM,three,a\nS,1,b\n", CSVOptions{Header: true, Label: "y"})
	if _, _, err := q.Apply(bad); err == nil || !strings.Contains(err.Error(), `line 2, column "code": "three" is not a number`) {
		t.Errorf("text in a numeric column: %v", err)
	}
}

func TestReadCSVRawTurnsAColumnToTextMidway(t *testing.T) {
	d := rawCSV(t, "1.50,2,0\n2,x,1\n,2.0,0\n", CSVOptions{})
	if d.Levels[0] != nil || !slices.Equal(d.Levels[1], []string{"2", "x"}) {
		t.Fatalf("levels %q", d.Levels)
	}
	if !math.IsNaN(d.F64[4]) || d.F64[0] != 1.5 || d.F64[1] != 0 || d.F64[3] != 1 || d.F64[5] != 0 {
		t.Errorf("values %v", d.F64)
	}
	if _, err := ReadCSV(strings.NewReader("1,inf,0\n"), "t.csv", CSVOptions{Raw: true}); err == nil || !strings.Contains(err.Error(), "line 1, column 2") {
		t.Errorf("inf: %v", err)
	}
}

func TestPreprocessRefusesIdentifierColumnsUnlessDropped(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,x,y\n")
	for i := range MaxLevels + 10 {
		b.WriteString("id" + itoa(i) + "," + itoa(i%5) + "," + itoa(i%2) + "\n")
	}
	d := rawCSV(t, b.String(), CSVOptions{Header: true, Label: "y"})
	if !d.Overflow[0] {
		t.Fatal("no overflow")
	}
	if _, err := FitPreprocess(d, PrepOptions{}); err == nil || !strings.Contains(err.Error(), "-drop id") {
		t.Errorf("an identifier column: %v", err)
	}
	p, err := FitPreprocess(d, PrepOptions{Drop: []string{"0"}})
	if err != nil || p.Features() != 1 || !p.Columns[0].Drop {
		t.Errorf("dropped by index: %v %+v", err, p)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestPreprocessScalesRegressionTargets(t *testing.T) {
	d := rawCSV(t, "x,price\n1,100000\n2,200000\n3,300000\n", CSVOptions{Header: true, Label: "price", Task: Regression})
	p, err := FitPreprocess(d, PrepOptions{TargetScale: "zscore"})
	if err != nil {
		t.Fatal(err)
	}
	enc, _, _ := p.Apply(d)
	p.ScaleTargets(enc)
	y := make([]float64, 1)
	FillTarget(enc, 2, y)
	sd := math.Sqrt(2.0/3) * 100000
	if math.Abs(y[0]-100000/sd) > 1e-9 {
		t.Errorf("scaled target %g, want %g", y[0], 100000/sd)
	}
	if got := p.UnscaleOutput(0, y[0]); math.Abs(got-300000) > 1e-6 {
		t.Errorf("unscaled %g, want 300000", got)
	}
	if err := p.Validate(1, 1, true); err != nil {
		t.Error(err)
	}
	if err := p.Validate(1, 1, false); err == nil {
		t.Error("a target scaling for a classifier is accepted")
	}
}

// The fixture is scikit-learn's OneHotEncoder(handle_unknown="ignore") and
// SimpleImputer(strategy="median") fitted on the first 40 rows
// (testdata/onehot_sklearn.py, run with Debian's python3-sklearn).
func TestPreprocessMatchesScikitLearn(t *testing.T) {
	f, err := os.Open("testdata/onehot_input.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := ReadCSV(f, "onehot_input.csv", CSVOptions{Header: true, Label: "label", Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := FitPreprocess(d.rows("train", 0, 40), PrepOptions{Categorical: []string{"code"}, Impute: "median"})
	if err != nil {
		t.Fatal(err)
	}
	var cats struct {
		Colour, Code []string
		XMedian      float64 `json:"x_median"`
	}
	b, err := os.ReadFile("testdata/onehot_categories.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cats); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Columns[0].Categories, cats.Colour) || !slices.Equal(p.Columns[1].Categories, cats.Code) || p.Columns[2].Fill != cats.XMedian {
		t.Fatalf("fitted %q, %q, median %g; scikit-learn %q, %q, %g", p.Columns[0].Categories, p.Columns[1].Categories, p.Columns[2].Fill, cats.Colour, cats.Code, cats.XMedian)
	}
	enc, warn, err := p.Apply(d)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadCSV(mustOpen(t, "testdata/onehot_sklearn.csv"), "onehot_sklearn.csv", CSVOptions{NoLabel: true, Header: false})
	if err != nil {
		t.Fatal(err)
	}
	if enc.Features != want.Features || !slices.Equal(enc.F64, want.F64) {
		t.Errorf("encoded rows differ from scikit-learn's:\n%v\n%v", rows(enc), rows(want))
	}
	if len(warn) != 2 { // Zinc, and code 7, after the split only
		t.Errorf("warnings %q, want the two unseen categories", warn)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
