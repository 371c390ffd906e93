package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/internal/ortest"
	"github.com/ptrain/ptrain/onnx"
)

// writeFile writes s to dir/name and returns the name.
func writeFile(t *testing.T, dir, name, s string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// digitsRows are raw 8x8 digit rows (pixel values 0-16), as predict reads them.
func digitsRows(n int) string {
	var b strings.Builder
	for r := 0; r < n; r++ {
		for c := 0; c < 64; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, (r*7+c*5+r*c)%17)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// flowerTable is an iris-like table (4 measurements, 3 species, one
// metadata line as scikit-learn's files have) for clones without
// ../shared/datasets/uci/iris.csv.
func flowerTable() string {
	var b strings.Builder
	b.WriteString("150,4,setosa,versicolor,virginica\n")
	for i := 0; i < 150; i++ {
		c := i % 3
		fmt.Fprintf(&b, "%.1f,%.1f,%.1f,%.1f,%d\n", 5+float64(c)*0.8+float64(i%7)/10, 3.4-float64(c)*0.3+float64(i%5)/10, 1.5+float64(c)*2+float64(i%4)/10, 0.2+float64(c)*0.9+float64(i%3)/10, c)
	}
	return b.String()
}

// resNetArch is train -h's ResNet: a stem, a block with an identity
// shortcut, a strided block with a projection shortcut, gap.
const resNetArch = "1x8x8-conv(8,3,pad=1)-bn:relu-res(conv(8,3,pad=1)-bn:relu-conv(8,3,pad=1)-bn):relu-res(conv(16,3,stride=2,pad=1)-bn:relu-conv(16,3,pad=1)-bn|conv(16,1,stride=2)-bn):relu-gap-10:softmax"

// TestExportRunsInOnnxruntimeAsPredict exports an MLP on the digits, the
// iris MLP with -normalize zscore, a regression on a linear output with
// -normalize minmax, a CNN with batch norm and both poolings (float32
// and float64, batch norm as nodes and folded), a ResNet (batch norm
// as nodes and folded) and a regression on a table with missing cells,
// imputed with indicators and standardised targets, checks every model with
// onnx's checker, runs each in onnxruntime on raw rows and compares with
// what ptrain predict prints after its class column: max abs difference
// ≤ 1e-5.
func TestExportRunsInOnnxruntimeAsPredict(t *testing.T) {
	ortest.Runtime(t)
	dir := t.TempDir()
	digits := writeFile(t, dir, "digits.csv", digitsRows(12))
	iris, _ := filepath.Abs("../../../shared/datasets/uci/iris.csv")
	if _, err := os.Stat(iris); err != nil {
		t.Logf("no %s: an iris-like table instead", iris)
		iris = filepath.Join(dir, writeFile(t, dir, "flowers.csv", flowerTable()))
	}
	lines := strings.Split(strings.TrimSpace(string(must(os.ReadFile(iris)))), "\n")
	var feats []string
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		feats = append(feats, strings.Join(f[:4], ","))
	}
	flowers := writeFile(t, dir, "flowers-features.csv", strings.Join(feats, "\n")+"\n")
	var reg strings.Builder
	reg.WriteString("a,b,c,y\n")
	for i := 0; i < 200; i++ {
		a, b, c := float64(i%13), float64(i%7)*10, float64(i%5)-2
		fmt.Fprintf(&reg, "%g,%g,%g,%g\n", a, b, c, 0.3*a-0.02*b+c*c)
	}
	writeFile(t, dir, "reg.csv", reg.String())
	writeFile(t, dir, "reg-features.csv", "1,20,-2\n12,60,2\n0,0,0\n7,35,1\n")
	tableRaw, tableEncoded := missingTable(t, dir)

	cases := []struct {
		name, rows string
		train      []string
		export     []string
		classes    bool
	}{
		{"digits-mlp", digits, []string{"-epochs", "3"}, nil, true},
		{"iris", flowers, []string{"-data", "csv:" + iris, "-csv-skip", "1", "-csv-header=false", "-normalize", "zscore", "-test", "0.2", "-val", "0", "-arch", "4-16:relu-3:softmax", "-batch", "8", "-lr", "0.01", "-epochs", "20"}, nil, true},
		{"regression", "reg-features.csv", []string{"-data", "csv:reg.csv", "-label", "y", "-task", "regression", "-normalize", "minmax", "-arch", "3-8:tanh-1", "-epochs", "5"}, nil, false},
		{"cnn", digits, []string{"-arch", cnnArch, "-epochs", "2", "-normalize", "minmax"}, nil, true},
		{"cnn-fold", digits, nil, []string{"-fold-bn"}, true}, // cnn's checkpoint
		{"cnn64", digits, []string{"-arch", cnnArch, "-epochs", "2", "-dtype", "float64", "-lr", "0.01"}, nil, true},
		{"resnet", digits, []string{"-arch", resNetArch, "-epochs", "2", "-normalize", "zscore"}, nil, true},
		{"resnet-fold", digits, nil, []string{"-fold-bn"}, true}, // resnet's checkpoint
		{"table", tableRaw, []string{"-data", "csv:table.csv", "-label", "y", "-task", "regression", "-drop", "id", "-impute", "median", "-impute-indicators", "-target-scale", "zscore", "-normalize", "zscore", "-arch", "7-8:tanh-1", "-epochs", "5"}, nil, false},
	}
	var onnxFiles []string
	for _, c := range cases {
		ckpt := c.name + ".safetensors"
		if c.train == nil {
			ckpt = strings.TrimSuffix(c.name, "-fold") + ".safetensors"
		} else {
			mustRun(t, dir, append([]string{"train", "-quiet", "-out", ckpt}, c.train...)...)
		}
		out, errs, code := ptrain(t, dir, append([]string{"export", "-model", ckpt, "-out", c.name + ".onnx"}, c.export...)...)
		if code != 0 || !strings.Contains(out, "ONNX model written to "+c.name+".onnx") {
			t.Fatalf("export %s: exit %d\n%s%s", c.name, code, out, errs)
		}
		if note := strings.Contains(errs, "float64 weights; the ONNX model is float32"); note != (c.name == "cnn64") {
			t.Errorf("export %s: stderr %q", c.name, errs)
		}
		if note := strings.Contains(errs, "(a, a_missing, b, color=blue, color=green, color=red, color_missing)"); note != (c.name == "table") {
			t.Errorf("export %s: stderr %q", c.name, errs)
		}
		onnxFiles = append(onnxFiles, filepath.Join(dir, c.name+".onnx"))
		if c.name == "resnet-fold" { // every batch norm of the ResNet follows a conv that nothing else reads
			s, err := onnx.ReadFile(filepath.Join(dir, c.name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			if ops := fmt.Sprint(s.Operators); strings.Contains(ops, "BatchNormalization") || !strings.Contains(ops, "Conv") {
				t.Errorf("export %s: operators %s", c.name, ops)
			}
		}
	}
	ortest.Check(t, onnxFiles...)
	for _, c := range cases {
		ckpt := c.name + ".safetensors"
		if c.train == nil {
			ckpt = strings.TrimSuffix(c.name, "-fold") + ".safetensors"
		}
		skip := 1 // the row column
		if c.classes {
			skip = 2 // and the class
		}
		header, ortRows := "-csv-header=false", c.rows
		if c.name == "table" { // predict reads the raw table, the graph its features
			header, ortRows = "-csv-header=true", tableEncoded
		}
		pred := mustRun(t, dir, "predict", "-model", ckpt, "-input", c.rows, header)
		want := ortest.ParseRows(t, pred[strings.Index(pred, "\n")+1:], skip)
		got := ortest.Predict(t, filepath.Join(dir, c.name+".onnx"), filepath.Join(dir, ortRows))
		d := ortest.MaxDiff(t, got, want)
		if d > 1e-5 {
			t.Errorf("%s: onnxruntime and ptrain predict differ by up to %.3g", c.name, d)
		}
		t.Logf("%s: %d rows, max abs difference %.3g", c.name, len(got), d)
	}
}

// missingTable writes table.csv, a regression table with missing cells
// in a number column and a text column, an identifier and a target y of
// 0.2 to 0.9 (predict prints 6 significant digits, so the comparison is
// to 1e-6), and new rows for it: raw (table-rows.csv, as predict reads
// them, missing cells empty or NA, a color the training split lacks) and
// encoded (table-features.csv, the graph's input: a, a_missing, b, the
// one-hot colors, color_missing; a missing number empty, a missing
// color NaN in each of its categories, the indicators 0).
func missingTable(t *testing.T, dir string) (raw, encoded string) {
	var tb strings.Builder
	tb.WriteString("a,b,color,id,y\n")
	colors := []string{"red", "green", "blue"}
	for i := range 120 {
		a := fmt.Sprint(float64(i%9) / 4)
		if i%6 == 0 {
			a = ""
		}
		color := colors[i%3]
		if i%7 == 0 {
			color = "NA"
		}
		fmt.Fprintf(&tb, "%s,%g,%s,%d,%g\n", a, float64(i%5)/2, color, 7000+i, 0.2+float64((i%9)*(i%3+1))/40)
	}
	writeFile(t, dir, "table.csv", tb.String())
	rawRows := "b,id,a,color\n1.5,1,,red\n0,2,0.5,NA\n2,3,2,blue\n0.5,4,,teal\n1,5,1.25,green\n"
	encRows := ",0,1.5,0,0,1,0\n0.5,0,0,NaN,NaN,NaN,0\n2,0,2,1,0,0,0\n,0,0.5,0,0,0,0\n1.25,0,1,0,1,0,0\n"
	return writeFile(t, dir, "table-rows.csv", rawRows), writeFile(t, dir, "table-features.csv", encRows)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestTorchExportRunsAsPtrainExport: PyTorch's own export of
// examples/torch_twin.py's twin (examples/onnxruntime/torch_export.py)
// runs in the same onnxruntime with the outputs of ptrain's export and of
// ptrain predict, for the CNN with batch norm and both poolings and for
// the ResNet.
func TestTorchExportRunsAsPtrainExport(t *testing.T) {
	ortest.Runtime(t)
	needTorch(t)
	dir := t.TempDir()
	rows := filepath.Join(dir, writeFile(t, dir, "rows.csv", digitsRows(8)))
	for i, arch := range []string{cnnArch, resNetArch} {
		ckpt, ptrainOnnx, torchOnnx := fmt.Sprintf("m%d.safetensors", i), fmt.Sprintf("ptrain%d.onnx", i), fmt.Sprintf("torch%d.onnx", i)
		mustRun(t, dir, "train", "-arch", arch, "-epochs", "2", "-normalize", "zscore", "-quiet", "-out", ckpt)
		mustRun(t, dir, "export", "-model", ckpt, "-out", ptrainOnnx)
		cmd := exec.Command(ortest.Python, filepath.Join(ortest.Dir(), "torch_export.py"), ckpt, torchOnnx)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("torch_export.py: %v\n%s", err, out)
		}
		ortest.Check(t, filepath.Join(dir, torchOnnx))
		pred := mustRun(t, dir, "predict", "-model", ckpt, "-input", "rows.csv", "-csv-header=false")
		want := ortest.ParseRows(t, pred[strings.Index(pred, "\n")+1:], 2)
		torch := ortest.Predict(t, filepath.Join(dir, torchOnnx), rows)
		ours := ortest.Predict(t, filepath.Join(dir, ptrainOnnx), rows)
		if d := ortest.MaxDiff(t, torch, want); d > 1e-5 {
			t.Errorf("%s: PyTorch's export differs from ptrain predict by up to %.3g", arch, d)
		}
		d := ortest.MaxDiff(t, torch, ours)
		if d > 1e-5 {
			t.Errorf("%s: PyTorch's export differs from ptrain's by up to %.3g", arch, d)
		}
		t.Logf("%s: PyTorch's export and ptrain's differ by up to %.3g", arch, d)
	}
}

// TestExportInfo: ptrain info on an exported model prints its input,
// output, operators and the checkpoint's provenance; -json too.
func TestExportInfo(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-arch", cnnArch, "-epochs", "1", "-quiet", "-out", "cnn.safetensors")
	mustRun(t, dir, "export", "-model", "cnn.safetensors", "-out", "cnn.onnx")
	info := mustRun(t, dir, "info", "cnn.onnx")
	for _, want := range []string{"ONNX, IR version 7, opset ai.onnx 13", "producer      ptrain " + version, "input         input float32[batch,1,8,8]",
		"output        output float32[batch,10]", "Conv ×2", "BatchNormalization ×2", "MaxPool ×1", "AveragePool ×1", "Softmax ×1",
		"arch          " + cnnArch, `classes       ["0","1"`, "created       20", `"epoch":1`, "blas ", `config        {"data":"digits"`} {
		if !strings.Contains(info, want) {
			t.Errorf("info lacks %q:\n%s", want, info)
		}
	}
	if strings.Contains(info, "history") {
		t.Errorf("the run's history was exported:\n%s", info)
	}
	// An ONNX model by another name is found by its content.
	if err := os.Rename(filepath.Join(dir, "cnn.onnx"), filepath.Join(dir, "cnn.bin")); err != nil {
		t.Fatal(err)
	}
	var js struct {
		Format    string         `json:"format"`
		Operators map[string]int `json:"operators"`
		Inputs    []struct {
			Shape []string `json:"shape"`
		} `json:"inputs"`
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, dir, "info", "-json", "cnn.bin")), &js); err != nil {
		t.Fatal(err)
	}
	if js.Format != "onnx" || js.Operators["Gemm"] != 2 || strings.Join(js.Inputs[0].Shape, ",") != "batch,1,8,8" || js.Metadata["ptrain.arch"] != cnnArch {
		t.Errorf("info -json: %+v", js)
	}
}

// TestExportOutputRules: -out is checked before the checkpoint is read,
// refused when it is the checkpoint, locked against a second writer,
// written whole (a failed export leaves the old file), and the temporary
// files of a killed export are removed.
func TestExportOutputRules(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	if err := os.Mkdir(filepath.Join(dir, "sub.onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "bad.safetensors", "not a checkpoint")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-model", "m.safetensors"}, 2, "-model CKPT and -out MODEL.onnx are required"},
		{[]string{"-model", "m.safetensors", "-out", "m.txt"}, 2, "-out m.txt: want a .onnx file"},
		{[]string{"-model", "m.safetensors", "-out", "sub.onnx"}, 2, "is a directory"},
		{[]string{"-model", "m.safetensors", "-out", "nodir/m.onnx"}, 2, "directory nodir"},
		{[]string{"-model", "m.safetensors", "-out", "./m.safetensors"}, 2, "-out ./m.safetensors is the same file as -model, an input"},
		{[]string{"-model", "missing.safetensors", "-out", "m.txt"}, 2, "want a .onnx file"}, // -out first
		{[]string{"-model", "bad.safetensors", "-out", "old.onnx"}, 1, "bad.safetensors: safetensors"},
		{[]string{"-model", "m.safetensors", "-out", "m.onnx", "extra"}, 2, `unexpected argument "extra"`},
	} {
		writeFile(t, dir, "old.onnx", "the previous model")
		_, errs, code := ptrain(t, dir, append([]string{"export"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("export %v: exit %d, %q; want exit %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "old.onnx")); string(b) != "the previous model" {
			t.Errorf("export %v changed old.onnx", tc.args)
		}
	}

	// A lock held by another run: refused at once, naming it.
	l, err := lockFile(filepath.Join(dir, "m.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	_, errs, code := ptrain(t, dir, "export", "-model", "m.safetensors", "-out", "m.onnx")
	l.release()
	if code != 1 || !strings.Contains(errs, "in use by another ptrain run (pid") {
		t.Errorf("a locked -out: exit %d, %q", code, errs)
	}
	// A killed export's temporary file is removed by the next one.
	stale := writeFile(t, dir, ".m.onnx.tmp123", "half a model")
	_, errs, code = ptrain(t, dir, "export", "-model", "m.safetensors", "-out", "m.onnx")
	if _, err := os.Stat(filepath.Join(dir, stale)); code != 0 || !os.IsNotExist(err) || !strings.Contains(errs, "removed 1 temporary file") {
		t.Errorf("stale temporary file: exit %d, %v, %q", code, err, errs)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
