// Package ortest runs ONNX models in the real runtimes for tests:
// onnxruntime through examples/onnxruntime/run.js (onnxruntime-node, one
// thread) and onnx's checker through examples/onnxruntime/check_onnx.py
// (Debian's python3-onnx). Where one is missing, the test skips with a
// message that says how to install it.
//
// onnxruntime-node is looked for in examples/onnxruntime/node_modules
// (`cd examples/onnxruntime && ONNXRUNTIME_NODE_INSTALL=skip npm ci`, as
// .ci/run does) or, when PTRAIN_ORT_DIR is set, in $PTRAIN_ORT_DIR/node_modules.
// With PTRAIN_ONNX_REQUIRED=1 (.ci/run sets it) a missing runtime fails
// the test instead of skipping it.
package ortest

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Python is the interpreter with Debian's python3-onnx and python3-torch.
const Python = "/usr/bin/python3"

var ort struct {
	once      sync.Once
	dir, skip string
	env       []string
}

// Dir is examples/onnxruntime in this checkout.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "onnxruntime")
}

// Runtime returns the environment in which node finds onnxruntime-node,
// or skips t.
func Runtime(t testing.TB) []string {
	t.Helper()
	ort.once.Do(func() {
		ort.dir = Dir()
		mods := filepath.Join(cmp.Or(os.Getenv("PTRAIN_ORT_DIR"), ort.dir), "node_modules")
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
		skip(t, ort.skip)
	}
	return ort.env
}

// Predict runs the model at path in onnxruntime on the rows of the CSV
// file rows (raw features, as ptrain predict reads them) and returns its
// outputs, one slice per row.
func Predict(t testing.TB, path, rows string) [][]float64 {
	t.Helper()
	env := Runtime(t)
	cmd := exec.Command("node", filepath.Join(Dir(), "run.js"), path, rows)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("onnxruntime on %s: %v\n%s", path, err, stderr)
	}
	return ParseRows(t, string(out), 0)
}

// ParseRows reads lines of comma-separated numbers, from column skip on.
func ParseRows(t testing.TB, s string, skip int) [][]float64 {
	t.Helper()
	var ys [][]float64
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Split(line, ",")
		if len(f) < skip {
			t.Fatalf("%q: fewer than %d columns", line, skip)
		}
		var y []float64
		for _, v := range f[skip:] {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("not a number in %q", line)
			}
			y = append(y, x)
		}
		ys = append(ys, y)
	}
	return ys
}

// MaxDiff is the largest absolute difference between a and b, which must
// have the same shape (t fails otherwise).
func MaxDiff(t testing.TB, a, b [][]float64) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d rows against %d", len(a), len(b))
	}
	var worst float64
	for i := range a {
		if len(a[i]) != len(b[i]) {
			t.Fatalf("row %d: %d values against %d", i, len(a[i]), len(b[i]))
		}
		for j := range a[i] {
			d := a[i][j] - b[i][j]
			worst = max(worst, d, -d)
		}
	}
	return worst
}

// Check runs onnx.checker.check_model(full_check=True) on the models at
// paths, or skips t where python3-onnx is missing.
func Check(t testing.TB, paths ...string) {
	t.Helper()
	if err := exec.Command(Python, "-c", "import onnx").Run(); err != nil {
		skip(t, "no python3-onnx here (apt-get install python3-onnx) for onnx.checker")
	}
	script := filepath.Join(Dir(), "check_onnx.py")
	if out, err := exec.Command(Python, append([]string{script}, paths...)...).CombinedOutput(); err != nil {
		t.Fatalf("onnx.checker: %v\n%s", err, out)
	}
}

// skip skips t, or fails it where PTRAIN_ONNX_REQUIRED is set.
func skip(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("PTRAIN_ONNX_REQUIRED") != "" {
		t.Fatal("PTRAIN_ONNX_REQUIRED is set: " + msg)
	}
	t.Skip(msg)
}
