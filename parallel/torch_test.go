package parallel

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
)

// torchSpec is the network testdata/torch_cnn.py builds in PyTorch.
const torchSpec = "1x6x6-conv(3,3,pad=1)-bn:relu-maxpool(2)-conv(4,2):tanh-avgpool(2)-flatten-5:relu-bn-3:softmax"

// torchResNetSpec is the network testdata/torch_resnet.py builds: an
// identity block and a strided block with a projection shortcut.
const torchResNetSpec = "1x6x6-conv(3,3,pad=1)-bn:relu-res(conv(3,3,pad=1)-bn:relu-conv(3,3,pad=1)-bn):relu-res(conv(4,3,stride=2,pad=1)-bn:relu-conv(4,3,pad=1)-bn|conv(4,1,stride=2)-bn):relu-gap-3:softmax"

// prefixed returns the tensors of f whose names start with prefix, with
// the prefix taken off.
func prefixed(f *safetensors.File, prefix string) *safetensors.File {
	out := &safetensors.File{}
	for _, t := range f.Tensors {
		if name, ok := strings.CutPrefix(t.Name, prefix); ok {
			t.Name = name
			out.Tensors = append(out.Tensors, t)
		}
	}
	return out
}

// TestMatchesPyTorch starts from weights PyTorch wrote (as -init reads
// them), takes two steps of SGD and of Adam on two batches with 2 workers,
// and requires PyTorch's weights and running statistics to 1e-9, for a
// CNN with batch norm and for a ResNet (testdata/torch_cnn.py and
// torch_resnet.py made the files).
func TestMatchesPyTorch(t *testing.T) {
	for _, tc := range []struct{ file, spec string }{
		{"testdata/torch_cnn.safetensors", torchSpec},
		{"testdata/torch_resnet.safetensors", torchResNetSpec},
	} {
		t.Run(tc.file, func(t *testing.T) { matchesPyTorch(t, tc.file, tc.spec) })
	}
}

func matchesPyTorch(t *testing.T, file, spec string) {
	f, err := safetensors.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var batches []Batch[float64]
	for _, i := range []string{"0", "1"} {
		x, y := f.Tensor("x"+i), f.Tensor("y"+i)
		b := Batch[float64]{X: make([]float64, x.Shape[0]*x.Shape[1]), Y: make([]float64, y.Shape[0]*y.Shape[1]), N: x.Shape[0]}
		if err := safetensors.Decode(b.X, x.DType, x.Data); err != nil {
			t.Fatal(err)
		}
		if err := safetensors.Decode(b.Y, y.DType, y.Data); err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
	}
	for _, tc := range []struct {
		name string
		cfg  optim.Config
	}{
		{"sgd", optim.Config{Method: optim.SGD, LR: 0.1}},
		{"adam", func() optim.Config { c := optim.Defaults(optim.Adam); c.LR = 0.01; return c }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := model.NewZero[float64](model.MustParseSpec(spec))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.SetWeights(prefixed(f, "init.")); err != nil {
				t.Fatal(err)
			}
			opt, err := optim.New[float64](tc.cfg, len(m.Params))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := New(m, opt, Config{Workers: 2, Loss: model.CrossEntropy})
			if err != nil {
				t.Fatal(err)
			}
			err = tr.Run(context.Background(), func(s *Session[float64]) error {
				for _, b := range batches {
					if _, err := s.Step(b); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := model.NewZero[float64](model.MustParseSpec(spec))
			if err := want.SetWeights(prefixed(f, tc.name+".")); err != nil {
				t.Fatal(err)
			}
			for i := range m.Params {
				if d := math.Abs(m.Params[i] - want.Params[i]); d > 1e-9 {
					t.Errorf("%s: %v, PyTorch %v", m.ParamName(i), m.Params[i], want.Params[i])
				}
			}
			for _, l := range m.Layout.Layers {
				for _, b := range l.Buffers {
					for i := b.Offset; i < b.Offset+b.Size(); i++ {
						if d := math.Abs(m.Buffers[i] - want.Buffers[i]); d > 1e-9 {
							t.Errorf("%s[%d]: %v, PyTorch %v", b.Name, i-b.Offset, m.Buffers[i], want.Buffers[i])
						}
					}
				}
			}
		})
	}
}
