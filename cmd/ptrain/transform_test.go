package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ckpt "github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/model/safetensors"
)

func dropTensor(name string) func(f *safetensors.File) {
	return func(f *safetensors.File) {
		f.Tensors = slices.DeleteFunc(f.Tensors, func(t safetensors.Tensor) bool { return t.Name == name })
	}
}

// A checkpoint without a tensor of its feature transform is refused by
// the decoder every command uses, naming the tensor: predict would feed
// the model raw features and answer confidently and wrongly. Newer files
// list the transform's tensors (ckpt.MetaTransform); for older ones the
// config says which the run had.
func TestTransformTensorsMustBePresent(t *testing.T) {
	dir := t.TempDir()
	zscore := goodCheckpoint(t, dir)
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "digits.safetensors")
	digits, err := os.ReadFile(filepath.Join(dir, "digits.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if f := mustParse(bytes0(digits)); f.Metadata[ckpt.MetaTransform] != `["data.scale"]` {
		t.Fatalf("the digits' checkpoint lists its transform as %q", f.Metadata[ckpt.MetaTransform])
	}
	old := func(edit func(f *safetensors.File)) func(f *safetensors.File) {
		return func(f *safetensors.File) { edit(f); delete(f.Metadata, ckpt.MetaTransform) }
	}
	library := func(edit func(f *safetensors.File)) func(f *safetensors.File) {
		return func(f *safetensors.File) { edit(f); delete(f.Metadata, metaConfig) }
	}
	for _, tc := range []struct {
		name, want string
		b          []byte
		edit       func(f *safetensors.File)
	}{
		{"digits-no-scale", `tensor "data.scale": no such tensor (metadata "ptrain.transform" says the feature transform has it)`, digits, dropTensor("data.scale")},
		{"zscore-no-shift", `tensor "data.shift": no such tensor`, zscore, dropTensor("data.shift")},
		{"old-digits-no-scale", `tensor "data.scale": no such tensor (the run's -data digits -normalize none has a feature transform)`, digits, old(dropTensor("data.scale"))},
		{"old-zscore-no-scale", `"data.scale"`, zscore, old(func(f *safetensors.File) { dropTensor("data.scale")(f); dropTensor("data.shift")(f) })},
		{"library-no-scale", `tensor "data.scale": no such tensor`, digits, library(dropTensor("data.scale"))},
		{"unlisted-shift", `tensor "data.shift": metadata "ptrain.transform" says the feature transform has no such tensor`, zscore, func(f *safetensors.File) { f.Metadata[ckpt.MetaTransform] = `["data.scale"]` }},
		{"listed-other", `is not a transform tensor`, zscore, func(f *safetensors.File) {
			f.Metadata[ckpt.MetaTransform] = `["data.scale","data.shift","dense.0.bias"]`
		}},
	} {
		p := writeTemp(t, dir, rewrite(t, tc.b, tc.edit))
		_, err := readCheckpoint(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want the file and %q", tc.name, err, tc.want)
		}
	}
	if _, err := readCheckpoint(writeTemp(t, dir, rewrite(t, digits, old(func(*safetensors.File) {})))); err != nil {
		t.Errorf("an intact checkpoint without %s: %v", ckpt.MetaTransform, err)
	}
}

func bytes0(b []byte) []byte { return append([]byte(nil), b...) }
