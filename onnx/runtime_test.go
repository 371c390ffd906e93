package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/internal/ortest"
	"github.com/ptrain/ptrain/model/num"
)

// nestedResArch nests blocks: a block inside a body and inside a
// shortcut, a strided projection, a max pool between blocks, dropout on a
// block, a block whose output is the model's (C×H×W, flattened).
const nestedResArch = "2x9x9-conv(3,3,pad=1):relu-res(conv(3,3,pad=1)-bn:relu-res(conv(3,3,pad=1)-bn:tanh)-conv(3,1)|res(bn:relu-conv(3,1))):relu:dropout=0.2-maxpool(2,stride=1)-res(conv(5,3,stride=2,pad=1)-bn:relu|conv(5,1,stride=2)-bn-res(conv(5,1))):leakyrelu(0.1)-res(conv(5,3,pad=1)-bn)"

// TestOnnxruntimeRunsEveryLayerAsPtrain exports models with every layer
// kind and activation, residual blocks of every form, with and without a feature transform and batch
// norm folding, from float32 and float64, runs them in onnxruntime and
// compares with model.Predict on the transformed rows (what ptrain
// predict prints): max abs difference ≤ 1e-5. Every model passes onnx's
// checker first.
func TestOnnxruntimeRunsEveryLayerAsPtrain(t *testing.T) {
	ortest.Runtime(t)
	dir := t.TempDir()
	type run struct {
		path     string
		rows     [][]float64
		expected [][]float64
	}
	var runs []run
	for i, tc := range []struct {
		arch      string
		f64, fold bool
		transform bool
	}{
		{allLayersArch, false, false, true},
		{allLayersArch, true, false, true},
		{allLayersArch, false, true, false},
		{"5-7:leakyrelu-bn:sigmoid-4-bn-3:tanh-2", true, true, true},
		{"5-7:leakyrelu-bn:sigmoid-4-bn-3:tanh-2", false, false, false},
		{"2x6x5-conv(3,2,stride=2,pad=1):relu-maxpool(2,stride=1)", false, false, true},
		// Residual blocks: identity and projection shortcuts, strided, batch
		// norm inside (as nodes and folded), nested, flat, then gap.
		{resArch, false, false, true},
		{resArch, true, true, false},
		{nestedResArch, false, false, true},
		{nestedResArch, false, true, true},
		{"5-res(6:relu-5-bn):leakyrelu-res(4:tanh-bn|4-bn):relu-res(res(4:sigmoid-4)-bn)-3:softmax", true, true, true},
		{"5-res(6:relu-5-bn):leakyrelu-res(4:tanh-bn|4-bn):relu-res(res(4:sigmoid-4)-bn)-3:softmax", false, false, false},
	} {
		path := filepath.Join(dir, fmt.Sprintf("m%d.onnx", i))
		var rows, want [][]float64
		var err error
		if tc.f64 {
			rows, want, err = export[float64](t, path, tc.arch, uint64(i), tc.transform, tc.fold)
		} else {
			rows, want, err = export[float32](t, path, tc.arch, uint64(i), tc.transform, tc.fold)
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.arch, err)
		}
		runs = append(runs, run{path, rows, want})
	}
	var paths []string
	for _, r := range runs {
		paths = append(paths, r.path)
	}
	ortest.Check(t, paths...)
	for _, r := range runs {
		got := ortest.Predict(t, r.path, writeRows(t, r.path+".rows.csv", r.rows))
		worst := ortest.MaxDiff(t, got, r.expected)
		if worst > 1e-5 {
			t.Errorf("%s: onnxruntime differs from Predict by up to %.3g", r.path, worst)
		}
		var top float64
		for _, y := range r.expected {
			for _, v := range y {
				top = max(top, math.Abs(v))
			}
		}
		t.Logf("%s: max abs difference %.3g, outputs up to %.3g in magnitude", filepath.Base(r.path), worst, top)
	}
}

// export writes the ONNX model of a random model of arch to path and
// returns raw rows for it and what Predict gives for them after the
// checkpoint's transform (as ptrain predict computes it: x·scale + shift
// in float64, then T).
func export[T num.Float](t *testing.T, path, arch string, seed uint64, transform, fold bool) (rows, want [][]float64, err error) {
	m := testModel[T](t, arch, seed)
	c := &checkpoint.Checkpoint[T]{Model: m}
	n := m.Spec.Inputs
	if transform {
		c.Transform = transformFor(n)
	}
	if err := Save(path, c, Options{FoldBatchNorm: fold}); err != nil {
		return nil, nil, err
	}
	r := rand.New(rand.NewPCG(seed, 11))
	const k = 9
	x := make([]T, k*n)
	for i := 0; i < k; i++ {
		row := make([]float64, n)
		for j := range row {
			row[j] = math.Round(r.NormFloat64()*40) / 8 // short decimals: exact in the CSV
		}
		rows = append(rows, row)
		d := &data.Dataset{N: 1, Features: n, F64: row}
		c.Transform.Apply(d)
		data.FillRow(d, 0, x[i*n:(i+1)*n])
	}
	y := m.Predict(x, k)
	out := len(y) / k
	for i := 0; i < k; i++ {
		w := make([]float64, out)
		for j := range w {
			w[j] = float64(y[i*out+j])
		}
		want = append(want, w)
	}
	return rows, want, nil
}

// writeRows writes rows as CSV to path and returns path.
func writeRows(t *testing.T, path string, rows [][]float64) string {
	var b strings.Builder
	for _, r := range rows {
		for j, v := range r {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
