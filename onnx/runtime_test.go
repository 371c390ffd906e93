package onnx

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model/num"
)

// The real runtimes: onnxruntime-node, installed by npm in
// examples/onnxruntime (or where PTRAIN_ORT_DIR says: a directory whose
// node_modules has onnxruntime-node), and onnx's checker from Debian's
// python3-onnx. Tests that need them skip with how to install them.

var ort struct {
	once   sync.Once
	script string
	env    []string
	skip   string
}

// onnxruntime returns the Node script that runs a model and the
// environment that finds onnxruntime-node, or skips t.
func onnxruntime(t testing.TB) (string, []string) {
	t.Helper()
	ort.once.Do(func() {
		dir, _ := filepath.Abs("../examples/onnxruntime")
		ort.script = filepath.Join(dir, "run.js")
		mods := filepath.Join(cmp.Or(os.Getenv("PTRAIN_ORT_DIR"), dir), "node_modules")
		ort.env = append(os.Environ(), "NODE_PATH="+mods)
		if _, err := exec.LookPath("node"); err != nil {
			ort.skip = "no node here: install Node.js, then onnxruntime-node (cd examples/onnxruntime && ONNXRUNTIME_NODE_INSTALL=skip npm ci)"
			return
		}
		cmd := exec.Command("node", "-e", "require('onnxruntime-node')")
		cmd.Env = ort.env
		if out, err := cmd.CombinedOutput(); err != nil {
			ort.skip = fmt.Sprintf("onnxruntime-node is not in %s (cd examples/onnxruntime && ONNXRUNTIME_NODE_INSTALL=skip npm ci, or set PTRAIN_ORT_DIR): %v %.200s", mods, err, out)
		}
	})
	if ort.skip != "" {
		t.Skip(ort.skip)
	}
	return ort.script, ort.env
}

// ortPredict runs the model at path in onnxruntime on rows, one thread,
// and returns its outputs.
func ortPredict(t testing.TB, path string, rows [][]float64) [][]float64 {
	t.Helper()
	script, env := onnxruntime(t)
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
	csv := path + ".rows.csv"
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, path, csv)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("onnxruntime on %s: %v\n%s", path, err, stderrOf(err))
	}
	var ys [][]float64
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var y []float64
		for _, f := range strings.Split(line, ",") {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("onnxruntime printed %q", line)
			}
			y = append(y, v)
		}
		ys = append(ys, y)
	}
	if len(ys) != len(rows) {
		t.Fatalf("onnxruntime: %d rows out for %d in", len(ys), len(rows))
	}
	return ys
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// checkModels runs onnx.checker.check_model(full_check=True) on the
// models at paths, or skips t where python3-onnx is missing.
func checkModels(t testing.TB, paths ...string) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import onnx").Run(); err != nil {
		t.Skip("no python3-onnx here (apt-get install python3-onnx) for onnx.checker")
	}
	script, _ := filepath.Abs("../examples/onnxruntime/check_onnx.py")
	if out, err := exec.Command("/usr/bin/python3", append([]string{script}, paths...)...).CombinedOutput(); err != nil {
		t.Fatalf("onnx.checker: %v\n%s", err, out)
	}
}

// TestOnnxruntimeRunsEveryLayerAsPtrain exports models with every layer
// kind and activation, with and without a feature transform and batch
// norm folding, from float32 and float64, runs them in onnxruntime and
// compares with model.Predict on the transformed rows (what ptrain
// predict prints): max abs difference ≤ 1e-5. Every model passes onnx's
// checker first.
func TestOnnxruntimeRunsEveryLayerAsPtrain(t *testing.T) {
	onnxruntime(t)
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
	checkModels(t, paths...)
	for _, r := range runs {
		got := ortPredict(t, r.path, r.rows)
		var worst float64
		for i := range got {
			if len(got[i]) != len(r.expected[i]) {
				t.Fatalf("%s: row %d has %d outputs, want %d", r.path, i, len(got[i]), len(r.expected[i]))
			}
			for j := range got[i] {
				worst = max(worst, math.Abs(got[i][j]-r.expected[i][j]))
			}
		}
		if worst > 1e-5 {
			t.Errorf("%s: onnxruntime differs from Predict by up to %.3g", r.path, worst)
		}
		t.Logf("%s: max abs difference %.3g", filepath.Base(r.path), worst)
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
