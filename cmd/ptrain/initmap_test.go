package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model/safetensors"
)

// A torch.nn.Sequential's state_dict (positional names: 0.weight, 2.weight
// for Linear, ReLU, Linear) loads with -init as the same layers by order,
// and the run says what it loaded.
func TestInitFromPyTorchSequentialNames(t *testing.T) {
	dir := t.TempDir()
	vals := func(n int, v float32) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = v + float32(i%7)/100
		}
		return s
	}
	w0, b0, w2, b2 := vals(16*64, 0.01), vals(16, 0.1), vals(10*16, -0.02), vals(10, 0.2)
	seqTensors := []safetensors.Tensor{
		{Name: "0.weight", DType: "F32", Shape: []int{16, 64}, Data: safetensors.Encode(w0)},
		{Name: "0.bias", DType: "F32", Shape: []int{16}, Data: safetensors.Encode(b0)},
		{Name: "2.weight", DType: "F32", Shape: []int{10, 16}, Data: safetensors.Encode(w2)},
		{Name: "2.bias", DType: "F32", Shape: []int{10}, Data: safetensors.Encode(b2)},
	}
	write := func(name string, ts []safetensors.Tensor) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := safetensors.Write(f, ts, nil); err != nil {
			t.Fatal(err)
		}
	}
	write("seq.safetensors", seqTensors)
	out := mustRun(t, dir, "train", "-init", "seq.safetensors", "-arch", "64-16:relu-10:softmax", "-epochs", "0", "-out", "m.safetensors")
	if !strings.Contains(out, "-init seq.safetensors: loaded 4 tensors, 1210 parameters (a PyTorch nn.Sequential's positional names, mapped in order to dense.0.weight") {
		t.Errorf("the run did not say what -init loaded:\n%s", out)
	}
	m := tensors(t, filepath.Join(dir, "m.safetensors"))
	for name, want := range map[string][]float32{"dense.0.weight": w0, "dense.1.bias": b2} {
		got := make([]float32, len(want))
		if err := safetensors.Decode(got, "F32", m.Tensor(name).Data); err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: not the Sequential's tensor (%v)", name, err)
		}
	}
	// Three modules with tensors for a model with two layers: not mapped,
	// and the error lists the names expected and found.
	write("three.safetensors", append(slices.Clone(seqTensors), safetensors.Tensor{Name: "4.bias", DType: "F32", Shape: []int{10}, Data: safetensors.Encode(b2)}))
	if _, errs, code := ptrain(t, dir, "train", "-init", "three.safetensors", "-arch", "64-16:relu-10:softmax", "-epochs", "0", "-out", "x.safetensors"); code == 0 || !strings.Contains(errs, "the file has 0.weight [16 64]") {
		t.Errorf("three modules for two layers: exit %d, %q", code, errs)
	}
}
