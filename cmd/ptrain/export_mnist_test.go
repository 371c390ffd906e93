package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/internal/ortest"
	"github.com/ptrain/ptrain/onnx"
)

// mnistCNNArch is a small CNN for 28×28 images with batch norm after
// each convolution and after a dense layer, a max and an average pooling:
// 28 → conv 5 → 24 → maxpool 2 → 12 → conv 3 → 10 → avgpool 2 → 5, then
// 16·5·5 = 400 features.
const mnistCNNArch = "1x28x28-conv(8,5)-bn:relu-maxpool(2)-conv(16,3)-bn:relu-avgpool(2)-flatten-32:relu-bn-10:softmax"

// mnistSubset writes the first nTrain training and nTest test images of
// the MNIST files in src (and their labels) to dir as the four gzip IDX
// files -data mnist:DIR reads, so that a test trains on real MNIST in a
// few steps. It returns the test images' raw pixels, one row each.
func mnistSubset(t *testing.T, src, dir string, nTrain, nTest int) [][]byte {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var test [][]byte
	for _, f := range []struct {
		base string
		n    int
	}{{"train-images-idx3-ubyte", nTrain}, {"train-labels-idx1-ubyte", nTrain}, {"t10k-images-idx3-ubyte", nTest}, {"t10k-labels-idx1-ubyte", nTest}} {
		idx, err := data.ReadIDXFile(filepath.Join(src, f.base+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		per := len(idx.Data) / idx.Dims[0] // bytes per sample: 784 or 1
		dims := []uint32{uint32(f.n)}
		for _, d := range idx.Dims[1:] {
			dims = append(dims, uint32(d))
		}
		magic := uint32(0x800 | len(dims)) // unsigned bytes, len(dims) dimensions
		payload := idx.Data[:f.n*per]
		if err := os.WriteFile(filepath.Join(dir, f.base+".gz"), idxGz(t, magic, dims, payload), 0o644); err != nil {
			t.Fatal(err)
		}
		if f.base == "t10k-images-idx3-ubyte" {
			for i := range f.n {
				test = append(test, payload[i*per:(i+1)*per])
			}
		}
	}
	return test
}

// TestExportMNISTRunsInOnnxruntimeAsPredict: a CNN with batch norm and
// both poolings, trained a few steps on MNIST (the first 512 training
// images), exported with batch norm as nodes and folded into the
// convolutions, runs in onnxruntime on 200 MNIST test images given as raw
// pixels 0-255 (the graph scales them by 1/255, as training did) with the
// outputs ptrain predict prints for the IDX file itself: max abs
// difference ≤ 1e-5. It needs MNIST in the workspace's shared/datasets
// (CI has it) and skips without it.
func TestExportMNISTRunsInOnnxruntimeAsPredict(t *testing.T) {
	src, _ := filepath.Abs("../../../shared/datasets/mnist")
	if _, err := os.Stat(filepath.Join(src, "t10k-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("no MNIST in %s: %v", src, err)
	}
	ortest.Runtime(t)
	dir := t.TempDir()
	images := mnistSubset(t, src, filepath.Join(dir, "mnist"), 512, 200)
	var rows strings.Builder
	for _, img := range images {
		for j, p := range img {
			if j > 0 {
				rows.WriteByte(',')
			}
			fmt.Fprint(&rows, p)
		}
		rows.WriteByte('\n')
	}
	csv := filepath.Join(dir, writeFile(t, dir, "t10k-200.csv", rows.String()))

	mustRun(t, dir, "train", "-data", "mnist:mnist", "-arch", mnistCNNArch, "-epochs", "2", "-batch", "64", "-val", "0", "-quiet", "-out", "mnist.safetensors")
	pred := mustRun(t, dir, "predict", "-model", "mnist.safetensors", "-input", filepath.Join("mnist", "t10k-images-idx3-ubyte.gz"))
	want := ortest.ParseRows(t, pred[strings.Index(pred, "\n")+1:], 2) // after the row and class columns
	if len(want) != 200 || len(want[0]) != 10 {
		t.Fatalf("predict printed %d rows of %d probabilities, want 200 of 10:\n%.500s", len(want), len(want[0]), pred)
	}
	// Plain: the three batch norms are nodes. Folded: the two after a
	// conv fold into it; the one after the dense layer's relu stays.
	for _, c := range []struct {
		name   string
		export []string
	}{{"mnist", nil}, {"mnist-fold", []string{"-fold-bn"}}} {
		path := filepath.Join(dir, c.name+".onnx")
		mustRun(t, dir, append([]string{"export", "-model", "mnist.safetensors", "-out", c.name + ".onnx"}, c.export...)...)
		s, err := onnx.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if in := s.Inputs[0].String(); in != "input float32[batch,1,28,28]" {
			t.Errorf("%s: input %s", c.name, in)
		}
		ops := map[string]int{}
		for _, o := range s.Operators {
			ops[o.Op] = o.Count
		}
		// Mul is data.scale, the 1/255 of the pixels.
		wantOps := map[string]int{"Mul": 1, "Conv": 2, "MaxPool": 1, "AveragePool": 1, "BatchNormalization": 3, "Softmax": 1}
		if c.export != nil {
			wantOps["BatchNormalization"] = 1
		}
		for op, n := range wantOps {
			if ops[op] != n {
				t.Errorf("%s: %d %s nodes, want %d (operators %v)", c.name, ops[op], op, n, s.Operators)
			}
		}
		ortest.Check(t, path)
		got := ortest.Predict(t, path, csv)
		d := ortest.MaxDiff(t, got, want)
		if d > 1e-5 {
			t.Errorf("%s: onnxruntime and ptrain predict differ by up to %.3g on MNIST", c.name, d)
		}
		t.Logf("%s: %d MNIST test images, max abs difference %.3g", c.name, len(got), d)
	}
}
