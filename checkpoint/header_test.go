package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// headerOnly is a checkpoint's file cut after its header, at cut bytes
// into its tensor data (0: none of it), read by safetensors.ReadHeader.
func headerOnly(t *testing.T, b []byte, cut int) *safetensors.File {
	t.Helper()
	end := 8 + int(binary.LittleEndian.Uint64(b)) + cut
	f, err := safetensors.ReadHeader(bytes.NewReader(b[:end]))
	if err != nil {
		t.Fatalf("cut at byte %d of %d: %v", end, len(b), err)
	}
	return f
}

// DecodeHeader reads a file whose tensor data is absent or cut short,
// which Decode refuses, and says all that Decode would but the values.
func TestDecodeHeaderReadsNoTensorData(t *testing.T) {
	c, train := trained[float64](t, optim.Adam)
	c.TrainedOn(train, c.Split, 50)
	var buf bytes.Buffer
	if err := Write(&buf, c); err != nil {
		t.Fatal(err)
	}
	whole, err := safetensors.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 1000} {
		f := headerOnly(t, buf.Bytes(), cut)
		if _, err := Decode[float64](f); err == nil {
			t.Fatalf("Decode accepted a file without its tensor data")
		}
		h, err := DecodeHeader(f)
		if err != nil {
			t.Fatalf("cut %d bytes into the data: %v", cut, err)
		}
		if h.DType != F64 || h.Spec.String() != c.Model.Spec.String() || h.Task == nil || *h.Task != data.Classification || !slices.Equal(h.Classes, c.Classes) ||
			h.Progress != c.Progress || h.BatchSize != 50 || h.InputRange != c.InputRange || !maps.Equal(h.Meta, c.Meta) {
			t.Errorf("cut %d: header %+v, want the checkpoint's %+v", cut, h, c)
		}
		if h.Optimizer == nil || *h.Optimizer != c.Optimizer.Config() {
			t.Errorf("cut %d: optimizer %v, want %+v", cut, h.Optimizer, c.Optimizer.Config())
		}
		if !slices.Equal(f.Names(), whole.Names()) {
			t.Errorf("cut %d: tensors %v, want %v", cut, f.Names(), whole.Names())
		}
	}
}

// Every check DecodeHeader makes without the data holds on a header-only
// file: the metadata caps (hostile files, issue #25), the tensors'
// shapes and dtypes against the architecture and the optimizer.
func TestDecodeHeaderChecksWithoutTheData(t *testing.T) {
	c, _ := trained[float32](t, optim.Adam)
	for _, tc := range []struct {
		name, want string
		edit       func(f *safetensors.File)
	}{
		{"split-over-cap", `metadata "ptrain.split" is 1048577 bytes, more than the limit of 1048576 (checkpoint.MaxMeta)`, func(f *safetensors.File) {
			f.Metadata[MetaSplit] = strings.Repeat(" ", MaxMeta+1)
		}},
		{"preprocess-over-cap", `(checkpoint.MaxPreprocess)`, func(f *safetensors.File) {
			f.Metadata[MetaPreprocess] = strings.Repeat(" ", MaxPreprocess+1)
		}},
		{"arch-lies", `"dense.0.weight": shape [12 64], the architecture 64-32:relu-10:softmax needs [32 64]`, func(f *safetensors.File) {
			f.Metadata["ptrain.arch"] = "64-32:relu-10:softmax"
		}},
		{"mixed-dtypes", `"dense.1.weight": dtype F64, the other weights are F32`, func(f *safetensors.File) {
			f.Tensor("dense.1.weight").DType = "F64"
		}},
		{"weights-I32", `"dense.0.weight": dtype I32 is not supported`, func(f *safetensors.File) {
			for i := range f.Tensors {
				if !strings.HasPrefix(f.Tensors[i].Name, "data.") {
					f.Tensors[i].DType = "I32"
				}
			}
		}},
		{"optim-length", `"optim.exp_avg": shape [5], want [910]`, func(f *safetensors.File) { f.Tensor("optim.exp_avg").Shape = []int{5} }},
		{"scale-length", `"data.scale": shape [3], want [64]`, func(f *safetensors.File) { f.Tensor("data.scale").Shape = []int{3} }},
		{"classes", "names 3 classes", func(f *safetensors.File) { f.Metadata[MetaClasses] = `["a","b","c"]` }},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, c); err != nil {
			t.Fatal(err)
		}
		f := headerOnly(t, buf.Bytes(), 0)
		tc.edit(f)
		if _, err := DecodeHeader(f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// FuzzDecodeHeader: on any file, DecodeHeader never panics, refuses what
// Decode refuses for its header with the same error, and says of what
// Decode accepts what Decode built.
func FuzzDecodeHeader(f *testing.F) {
	m, err := model.New[float32](model.MustParseSpec("3x4x4-conv(2,3)-bn:relu-flatten-3:softmax"), 1)
	if err != nil {
		f.Fatal(err)
	}
	opt, _ := optim.New[float32](optim.Defaults(optim.Momentum), len(m.Params))
	opt.Step(m.Params, make([]float32, len(m.Params)))
	c := &Checkpoint[float32]{Model: m, Optimizer: opt, Task: new(data.Classification), Classes: []string{"a", "b", "c"},
		Transform: data.Transform{Scale: slices.Repeat([]float64{0.5}, 48)}, Progress: parallel.Progress{Epoch: 1, BestEpoch: 1, BestValLoss: 0.5}}
	var buf bytes.Buffer
	if err := Write(&buf, c); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), "")
	f.Add(buf.Bytes(), `{"ptrain.arch":"64-12:relu-10"}`)
	f.Add(buf.Bytes(), `{"ptrain.task":"regression"}`)
	f.Add(buf.Bytes(), `{"ptrain.optimizer":"{\"method\":\"adam\",\"lr\":0.1}"}`)
	f.Fuzz(func(t *testing.T, b []byte, metaJSON string) {
		file, err := safetensors.Parse(b)
		if err != nil {
			return
		}
		var m map[string]string
		if json.Unmarshal([]byte(metaJSON), &m) == nil {
			for k, v := range m {
				if file.Metadata == nil {
					file.Metadata = map[string]string{}
				}
				file.Metadata[k] = v
			}
		}
		h, herr := DecodeHeader(file)
		c, err := Decode[float64](file)
		switch {
		case herr != nil && (err == nil || err.Error() != herr.Error()):
			t.Fatalf("DecodeHeader: %v; Decode: %v", herr, err)
		case err != nil:
			return
		}
		if h.Spec.String() != c.Model.Spec.String() || (h.Task == nil) != (c.Task == nil) || h.Task != nil && *h.Task != *c.Task || !slices.Equal(h.Classes, c.Classes) || h.Progress.Epoch != c.Progress.Epoch ||
			(h.Optimizer == nil) != (c.Optimizer == nil) || (h.Optimizer != nil && *h.Optimizer != c.Optimizer.Config()) {
			t.Fatalf("DecodeHeader says %+v, Decode built %+v", h, c)
		}
	})
}
