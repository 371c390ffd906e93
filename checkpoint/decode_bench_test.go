package checkpoint

import (
	"bytes"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
)

// BenchmarkDecodeByFile times what a program that chooses T by the file
// does to load a checkpoint (an MNIST MLP of 235,146 parameters with
// Adam's two state buffers, 2.8 MB): "check" is Check, which scans every
// tensor, then Decode, as ptrain did before DecodeHeader; "header" is
// DecodeHeader, which reads no tensor data, then Decode.
func BenchmarkDecodeByFile(b *testing.B) {
	m, err := model.New[float32](model.MustParseSpec("784-256:relu-128:relu-10:softmax"), 1)
	if err != nil {
		b.Fatal(err)
	}
	opt, _ := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
	opt.Step(m.Params, make([]float32, len(m.Params)))
	var buf bytes.Buffer
	if err := Write(&buf, &Checkpoint[float32]{Model: m, Optimizer: opt, Task: new(data.Classification)}); err != nil {
		b.Fatal(err)
	}
	f, err := safetensors.Parse(buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		dtype func(*safetensors.File) (DType, error)
	}{
		{"check", Check},
		{"header", func(f *safetensors.File) (DType, error) {
			h, err := DecodeHeader(f)
			if err != nil {
				return "", err
			}
			return h.DType, nil
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(buf.Len()))
			for b.Loop() {
				if dt, err := bc.dtype(f); err != nil || dt != F32 {
					b.Fatal(dt, err)
				}
				if _, err := Decode[float32](f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
