package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An ONNX model given where a checkpoint is read (eval, predict and export
// -model, train -init) is named as one, not reported as a safetensors
// header length of 10^18 (in process).
func TestONNXGivenAsACheckpointIsNamed(t *testing.T) {
	dir := t.TempDir()
	ckpt, model := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "m.onnx")
	var stderr bytes.Buffer
	if code := run([]string{"train", "-epochs", "1", "-quiet", "-out", ckpt}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"export", "-model", ckpt, "-out", model}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr.String())
	}
	want := model + " is an ONNX model, not a ptrain checkpoint"
	for _, args := range [][]string{
		{"eval", "-model", model},
		{"predict", "-model", model, "-input", "../../data/testdata/iris.csv"},
		{"export", "-model", model, "-out", filepath.Join(dir, "again.onnx")},
		{"train", "-init", model, "-epochs", "1", "-quiet", "-out", filepath.Join(dir, "n.safetensors")},
	} {
		stderr.Reset()
		code := run(args, nil, io.Discard, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: exit %d, stderr %q; want %q", args[0], code, stderr.String(), want)
		}
	}
}

// eval of a model trained on a CSV table with -data that is not one says
// so, rather than "not a raw table (read with CSVOptions.Raw)".
func TestEvalOfATableModelOnOtherData(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "iris.safetensors")
	var stderr bytes.Buffer
	if code := run([]string{"train", "-data", "csv:../../data/testdata/iris.csv", "-csv-skip", "1", "-csv-header=false", "-epochs", "1", "-quiet", "-out", ckpt}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	code := run([]string{"eval", "-model", ckpt, "-data", "digits"}, nil, io.Discard, &stderr)
	if want := ckpt + " was trained on a CSV table, and digits is not one"; code != 2 || !strings.Contains(stderr.String(), want) {
		t.Errorf("eval -data digits: exit %d, stderr %q; want 2 and %q", code, stderr.String(), want)
	}
}

// predict given a label file (1-D IDX) says it is one, rather than
// "images of [] = 1 values".
func TestPredictOfALabelFileSaysSo(t *testing.T) {
	f, err := os.Open("../../data/testdata/tiny-labels-idx1-ubyte.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	_, err = idxRows(zr, "tiny-labels-idx1-ubyte.gz", 784, nil)
	if err == nil || !strings.Contains(err.Error(), "tiny-labels-idx1-ubyte.gz: a label file (1-D IDX") {
		t.Errorf("idxRows of labels: %v", err)
	}
}

// An image file of -data folder: that does not decode stops the run with a
// message that suggests -skip-bad, as one of another size does.
func TestUndecodableImageSuggestsSkipBad(t *testing.T) {
	dir := t.TempDir()
	for _, class := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, class, "x.png"), []byte("not a PNG at all"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := defaultConfig()
	c.Data, c.Quiet = "folder:"+dir, true
	_, err := loadFolder(&c, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "x.png: not an image") || !strings.Contains(err.Error(), "-skip-bad") {
		t.Errorf("folder of an undecodable file: %v, want the file and -skip-bad", err)
	}
}
