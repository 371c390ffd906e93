package onnx

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/internal/ortest"
)

// table is a raw regression table: a numeric column a with missing
// cells, a complete numeric column b, a text column color with missing
// cells, an identifier to drop, and two targets.
func table(rows int, seed int) string {
	var s strings.Builder
	s.WriteString("a,b,color,id,y,z\n")
	colors := []string{"red", "green", "blue", "teal"}
	for i := range rows {
		k := i*7 + seed
		a := strconv.FormatFloat(float64(k%11)*0.75-2, 'g', -1, 64)
		if k%5 == 0 {
			a = ""
		}
		color := colors[k%3]
		if seed > 0 && k%9 == 0 {
			color = colors[3] // a category the training split did not have
		}
		if k%4 == 1 {
			color = "NA"
		}
		fmt.Fprintf(&s, "%s,%g,%s,%d,%g,%g\n", a, float64(k%13)*10, color, 1000+i, float64(k%11)*3+float64(k%13), 500-float64(k%7)*40)
	}
	return s.String()
}

// TestOnnxruntimeImputesAsApply: a regression model of a table with
// missing numeric and text cells, imputed (mean and most_frequent, with
// indicators), a dropped column, standardised targets and -normalize's
// transform runs in onnxruntime, on the encoded rows with NaN for every
// missing cell, as predict runs it on the raw rows (data.Preprocess.Apply,
// the transform, Model.Predict, UnscaleOutput). The targets are hundreds,
// where float32's spacing is 3e-5 and the graph's last Add rounds to it:
// the bound is relative, |Δ| ≤ 1e-6·max(1, |y|).
func TestOnnxruntimeImputesAsApply(t *testing.T) {
	ortest.Runtime(t)
	dir := t.TempDir()
	opt := data.CSVOptions{Header: true, Label: "y,z", Task: data.Regression, Raw: true}
	train, err := data.ReadCSV(strings.NewReader(table(60, 0)), "train.csv", opt)
	if err != nil {
		t.Fatal(err)
	}
	testCSV := table(15, 3)
	var paths []string
	var inputs, wants [][][]float64
	for i, impute := range []string{"mean", "most_frequent"} {
		p, err := data.FitPreprocess(train, data.PrepOptions{Drop: []string{"id"}, Impute: impute, Indicators: true, TargetScale: "zscore"})
		if err != nil {
			t.Fatal(err)
		}
		if names := strings.Join(p.FeatureNames(), " "); names != "a a_missing b color=blue color=green color=red color_missing" {
			t.Fatalf("features %s", names)
		}
		m := testModel[float32](t, fmt.Sprintf("%d-8:tanh-2", p.Features()), uint64(i))
		c := &checkpoint.Checkpoint[float32]{Model: m, Task: new(data.Regression), Preprocess: p, Transform: transformFor(p.Features())}
		path := filepath.Join(dir, impute+".onnx")
		if err := Save(path, c, Options{}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)

		// What predict prints for the raw rows.
		raw, err := data.ReadCSV(strings.NewReader(testCSV), "test.csv", opt)
		if err != nil {
			t.Fatal(err)
		}
		enc, _, err := p.Apply(raw)
		if err != nil {
			t.Fatal(err)
		}
		c.Transform.Apply(enc)
		n, f := enc.N, enc.Features
		x := make([]float32, n*f)
		for r := range n {
			data.FillRow(enc, r, x[r*f:(r+1)*f])
		}
		y := m.Predict(x, n)
		var want [][]float64
		for r := range n {
			want = append(want, []float64{p.UnscaleOutput(0, float64(y[2*r])), p.UnscaleOutput(1, float64(y[2*r+1]))})
		}
		wants = append(wants, want)

		// The graph's input: the encoded features as a caller writes them,
		// NaN for a missing number, NaN in each of a missing text's
		// categories, 0 for the indicators; a text the training split
		// did not have is all zeros.
		var in [][]float64
		for _, line := range strings.Split(strings.TrimSpace(testCSV), "\n")[1:] {
			cell := strings.Split(line, ",")
			a, err := strconv.ParseFloat(cell[0], 64)
			if cell[0] == "" {
				a, err = math.NaN(), nil
			}
			b, err2 := strconv.ParseFloat(cell[1], 64)
			if err != nil || err2 != nil {
				t.Fatal(line)
			}
			row := []float64{a, 0, b}
			for _, cat := range p.Columns[2].Categories {
				switch {
				case cell[2] == "NA":
					row = append(row, math.NaN())
				case cell[2] == cat:
					row = append(row, 1)
				default:
					row = append(row, 0)
				}
			}
			in = append(in, append(row, 0))
		}
		inputs = append(inputs, in)
	}
	ortest.Check(t, paths...)
	for i, path := range paths {
		got := ortest.Predict(t, path, writeRows(t, path+".rows.csv", inputs[i]))
		d := ortest.MaxDiff(t, got, wants[i]) // checks the shapes
		var rel float64
		for r := range got {
			for k := range got[r] {
				rel = max(rel, math.Abs(got[r][k]-wants[i][r][k])/max(1, math.Abs(wants[i][r][k])))
			}
		}
		if !(rel <= 1e-6) {
			t.Errorf("%s: onnxruntime differs from predict's computation by up to %.3g, relative %.3g", filepath.Base(path), d, rel)
		}
		t.Logf("%s: max abs difference %.3g, relative %.3g", filepath.Base(path), d, rel)
	}
}

// TestEncodeImputation: a table's imputation is nodes before the model
// with the fill values Apply uses per feature (NaN where a column has no
// imputation) and the indicators' sources; a table without imputation or
// indicators adds none.
func TestEncodeImputation(t *testing.T) {
	p := &data.Preprocess{Columns: []data.PrepColumn{
		{Name: "a", Index: 0, Impute: "mean", Fill: 2.5, Indicator: true},
		{Name: "b", Index: 1},
		{Name: "color", Index: 2, Categorical: true, Categories: []string{"blue", "green", "red"}, Impute: "most_frequent", FillCategory: "green"},
		{Name: "id", Index: 3, Drop: true},
	}}
	m := testModel[float32](t, "6-1", 1)
	mp, err := build(&checkpoint.Checkpoint[float32]{Model: m, Task: new(data.Regression), Preprocess: p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range mp.Graph.Node {
		ops = append(ops, n.GetOpType())
	}
	if got := strings.Join(ops, " "); got != "IsNaN Where Cast Gather Max Where Gemm" {
		t.Errorf("nodes %s", got)
	}
	got := map[string]string{}
	for _, in := range mp.Graph.Initializer {
		switch {
		case in.FloatData != nil:
			got[in.GetName()] = fmt.Sprint(in.FloatData)
		case in.Int64Data != nil:
			got[in.GetName()] = fmt.Sprint(in.Int64Data)
		default:
			got[in.GetName()] = fmt.Sprint(in.Int32Data)
		}
	}
	for name, want := range map[string]string{"prep.fill": "[2.5 0 NaN 0 1 0]", "prep.indicator_source": "[0 0 2 3 4 5]", "prep.is_indicator": "[0 1 0 0 0 0]"} {
		if got[name] != want {
			t.Errorf("%s = %s, want %s", name, got[name], want)
		}
	}

	p = &data.Preprocess{Columns: []data.PrepColumn{{Index: 0}, {Index: 1, Categorical: true, Categories: []string{"x", "y"}}}}
	m = testModel[float32](t, "3-1", 1)
	mp, err = build(&checkpoint.Checkpoint[float32]{Model: m, Task: new(data.Regression), Preprocess: p}, Options{})
	if err != nil || len(mp.Graph.Node) != 1 {
		t.Errorf("without imputation: %v, %d nodes", err, len(mp.Graph.Node))
	}
	m = testModel[float32](t, "4-1", 1)
	if _, err := build(&checkpoint.Checkpoint[float32]{Model: m, Preprocess: p}, Options{}); err == nil || !strings.Contains(err.Error(), "makes 3 features, the model takes 4") {
		t.Errorf("a preprocessing of another width: %v", err)
	}
}
