package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cnnArch touches every layer kind, dropout and batch norm of both
// shapes: what examples/torch_twin.py must rebuild in PyTorch.
const cnnArch = "1x8x8-conv(8,3,pad=1)-bn:relu-maxpool(2)-conv(8,2):tanh-avgpool(2,stride=1)-flatten-16:leakyrelu(0.2):dropout=0.1-bn-10:softmax"

// TestCNNTrainEvalPredictInfo trains a CNN with batch norm on the digits
// and uses its checkpoint as a user would: eval, predict, info, resume.
func TestCNNTrainEvalPredictInfo(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, dir, "train", "-arch", cnnArch, "-epochs", "6", "-lr", "0.01", "-dtype", "float64", "-quiet", "-out", "cnn.safetensors")
	_ = out
	ev := mustRun(t, dir, "eval", "-model", "cnn.safetensors")
	acc := strings.Fields(ev[strings.Index(ev, "accuracy"):])[1]
	if v, _ := strconv.ParseFloat(strings.TrimSuffix(acc, "%"), 64); v < 85 {
		t.Fatalf("a CNN with batch norm evaluates to %s on the held-out digits:\n%s", acc, ev)
	}
	info := mustRun(t, dir, "info", "cnn.safetensors")
	for _, want := range []string{"conv.0  ", "8x8x8", "bn.1", "running_var", "flatten", "avgpool(2,stride=1)", "dense.1"} {
		if !strings.Contains(info, want) {
			t.Errorf("info lacks %q:\n%s", want, info)
		}
	}
	mustRun(t, dir, "train", "-arch", cnnArch, "-epochs", "7", "-lr", "0.01", "-dtype", "float64", "-quiet", "-resume", "cnn.safetensors", "-out", "cnn.safetensors")
}

// resArch has residual blocks with identity and projection shortcuts, one
// nested, with batch norm inside, dropout after a sum, and gap.
const resArch = "1x8x8-conv(4,3,pad=1)-bn:relu-res(conv(4,3,pad=1)-bn:relu-res(conv(4,3,pad=1)):tanh-conv(4,3,pad=1)-bn):relu-res(conv(8,3,stride=2,pad=1)-bn:relu-conv(8,3,pad=1)-bn|conv(8,1,stride=2)-bn):relu:dropout=0.1-gap-10:softmax"

// TestTorchTwinPredictsLikePtrain runs examples/torch_twin.py, the
// README's way into PyTorch, on a CNN checkpoint and on a ResNet's, and
// compares its outputs with ptrain predict's. It needs PyTorch, and runs
// only when asked for (needTorch).
func TestTorchTwinPredictsLikePtrain(t *testing.T) {
	needTorch(t)
	for _, arch := range []string{cnnArch, resArch} {
		t.Run(arch, func(t *testing.T) { twinPredictsLikePtrain(t, arch) })
	}
}

func twinPredictsLikePtrain(t *testing.T, arch string) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-arch", arch, "-epochs", "2", "-dtype", "float64", "-quiet", "-normalize", "zscore", "-out", "cnn.safetensors")
	var rows []string
	for r := 0; r < 6; r++ {
		var row []string
		for c := 0; c < 64; c++ {
			row = append(row, strconv.Itoa((r*7+c*5)%17))
		}
		rows = append(rows, strings.Join(row, ","))
	}
	if err := os.WriteFile(filepath.Join(dir, "rows.csv"), []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pred := strings.Split(strings.TrimSpace(mustRun(t, dir, "predict", "-model", "cnn.safetensors", "-input", "rows.csv", "-csv-header=false")), "\n")[1:]
	script, _ := filepath.Abs("../../examples/torch_twin.py")
	cmd := exec.Command("/usr/bin/python3", script, "cnn.safetensors", "rows.csv")
	cmd.Dir = dir
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("torch_twin.py: %v", err)
	}
	twin := strings.Split(strings.TrimSpace(string(got)), "\n")
	if len(twin) != len(pred) {
		t.Fatalf("%d rows from PyTorch, %d from ptrain", len(twin), len(pred))
	}
	for r := range pred {
		p, q := strings.Split(pred[r], ",")[2:], strings.Split(twin[r], ",")
		for j := range p {
			a, _ := strconv.ParseFloat(p[j], 64)
			b, _ := strconv.ParseFloat(q[j], 64)
			if math.Abs(a-b) > 1e-5 {
				t.Fatalf("row %d output %d: ptrain %v, PyTorch %v", r, j, a, b)
			}
		}
	}
}

// TestDropoutFlagOnlyOnHiddenDenseLayers: -dropout does not put dropout
// after every conv, pool, batch norm and flatten of a CNN.
func TestDropoutFlagOnlyOnHiddenDenseLayers(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-arch", "1x8x8-conv(4,3)-bn:relu-maxpool(2)-flatten-16:relu-10:softmax", "-dropout", "0.3", "-epochs", "1", "-quiet", "-out", "d.safetensors")
	info := mustRun(t, dir, "info", "d.safetensors")
	if !strings.Contains(info, "1x8x8-conv(4,3)-bn:relu-maxpool(2)-flatten-16:relu:dropout=0.3-10:softmax") {
		t.Fatalf("-dropout 0.3 on a CNN gives:\n%s", info)
	}
}

// TestLinearOutputClassificationWarns: classes trained on a linear output
// get MSE (cross-entropy is fused with softmax) — said, not silent.
func TestLinearOutputClassificationWarns(t *testing.T) {
	_, errs, code := ptrain(t, t.TempDir(), "train", "-arch", "1x8x8-conv(4,3)-flatten-10", "-epochs", "1", "-quiet", "-out", "l.safetensors")
	if code != 0 || !strings.Contains(errs, "10 classes are trained with MSE; end -arch with :softmax") {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
	_, errs, _ = ptrain(t, t.TempDir(), "train", "-epochs", "1", "-quiet", "-out", "s.safetensors")
	if strings.Contains(errs, "MSE") {
		t.Fatalf("a softmax output warned:\n%s", errs)
	}
}

// TestInitTakesTheFilesArchitecture: -init from a checkpoint without
// -arch builds the architecture the file records (it built the default
// MLP and refused the CNN's tensors).
func TestInitTakesTheFilesArchitecture(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-arch", "1x8x8-conv(4,3)-flatten-10:softmax", "-epochs", "1", "-quiet", "-out", "a.safetensors")
	mustRun(t, dir, "train", "-init", "a.safetensors", "-epochs", "1", "-quiet", "-out", "b.safetensors")
	if info := mustRun(t, dir, "info", "b.safetensors"); !strings.Contains(info, "1x8x8-conv(4,3)-flatten-10:softmax") {
		t.Fatalf("-init without -arch:\n%s", info)
	}
}

// TestFusedCNNTrainEvalResume: a CNN whose convolution runs fused with its
// max pooling (no batch norm between them) trains, evaluates and resumes
// through the CLI in float32, the assembly's path where there is AVX2.
func TestFusedCNNTrainEvalResume(t *testing.T) {
	const arch = "1x8x8-conv(8,3,pad=1):relu-maxpool(2)-flatten-10:softmax"
	dir := t.TempDir()
	mustRun(t, dir, "train", "-arch", arch, "-epochs", "6", "-lr", "0.01", "-quiet", "-out", "cnn.safetensors")
	ev := mustRun(t, dir, "eval", "-model", "cnn.safetensors")
	acc := strings.Fields(ev[strings.Index(ev, "accuracy"):])[1]
	if v, _ := strconv.ParseFloat(strings.TrimSuffix(acc, "%"), 64); v < 90 {
		t.Fatalf("a fused CNN evaluates to %s on the held-out digits:\n%s", acc, ev)
	}
	mustRun(t, dir, "train", "-arch", arch, "-epochs", "7", "-lr", "0.01", "-quiet", "-resume", "cnn.safetensors", "-out", "cnn.safetensors")
}
