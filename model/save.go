package model

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/model/safetensors"
)

// MetaArch is the __metadata__ key of the spec, as ParseSpec reads it:
// all a file needs to say for its tensors to be loaded into a model.
const MetaArch = "ptrain.arch"

// Tensors returns the model's tensors as safetensors tensors in layer
// order, each layer's in Layout's order (dense.0.weight, dense.0.bias, …;
// batch norm's running statistics after its weight and bias). Float data
// are views of Params and Buffers (see safetensors.Encode), to be written out
// before they change; num_batches_tracked is written as I64, as PyTorch
// keeps it.
func (m *Model[T]) Tensors() []safetensors.Tensor {
	var ts []safetensors.Tensor
	for _, l := range m.Layout.Layers {
		for _, t := range l.Params {
			ts = append(ts, safetensors.Tensor{Name: t.Name, DType: num.DType[T](), Shape: slices.Clone(t.Shape), Data: safetensors.Encode(m.Params[t.Offset : t.Offset+t.Size()])})
		}
		for _, t := range l.Buffers {
			src := m.Buffers[t.Offset : t.Offset+t.Size()]
			if t.Int {
				data := make([]byte, 8*len(src))
				for i, v := range src {
					binary.LittleEndian.PutUint64(data[8*i:], uint64(int64(v)))
				}
				ts = append(ts, safetensors.Tensor{Name: t.Name, DType: "I64", Shape: slices.Clone(t.Shape), Data: data})
				continue
			}
			ts = append(ts, safetensors.Tensor{Name: t.Name, DType: num.DType[T](), Shape: slices.Clone(t.Shape), Data: safetensors.Encode(src)})
		}
	}
	return ts
}

// Metadata is the __metadata__ Save writes: the spec (whose parts name
// every activation), with "format": "pt" so that PyTorch-side tools
// accept the file.
func (m *Model[T]) Metadata() map[string]string {
	return map[string]string{MetaArch: m.Spec.String(), "format": "pt"}
}

// Save writes the model as safetensors. extra metadata is added to the
// model's own (and may not override it).
func (m *Model[T]) Save(w io.Writer, extra map[string]string) error {
	meta := m.Metadata()
	for k, v := range extra {
		if _, taken := meta[k]; taken {
			return fmt.Errorf("model: metadata key %q is reserved", k)
		}
		meta[k] = v
	}
	return safetensors.Write(w, m.Tensors(), meta)
}

// SaveFile writes the model to path atomically (see
// safetensors.WriteFileAtomic).
func (m *Model[T]) SaveFile(path string, extra map[string]string) error {
	return safetensors.WriteFileAtomic(path, func(w io.Writer) error { return m.Save(w, extra) })
}

// Load reads a model saved by Save (or by any tool that writes the same
// names, layout and ptrain.arch metadata).
func Load[T num.Float](r io.Reader) (*Model[T], *safetensors.File, error) {
	f, err := safetensors.Read(r)
	if err != nil {
		return nil, nil, err
	}
	m, err := FromFile[T](f)
	return m, f, err
}

// LoadFile is Load from a path; errors name the file.
func LoadFile[T num.Float](path string) (*Model[T], *safetensors.File, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := FromFile[T](f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, f, nil
}

// FromFile builds the model described by a parsed file's ptrain.arch
// metadata and loads its weights.
func FromFile[T num.Float](f *safetensors.File) (*Model[T], error) {
	arch, ok := f.Metadata[MetaArch]
	if !ok {
		return nil, fmt.Errorf("no %q in the metadata: the architecture is unknown (load the weights into a model built from a spec instead)", MetaArch)
	}
	sp, err := ParseSpec(arch)
	if err != nil {
		return nil, err
	}
	m, err := NewZero[T](sp)
	if err != nil {
		return nil, err
	}
	if err := m.SetWeights(f); err != nil {
		return nil, err
	}
	return m, nil
}

// SetWeights copies every tensor of the model (weights, biases and batch
// norm's running statistics, by their Layout names) from f, converting F32
// or F64 to T (and num_batches_tracked from I64). It checks every shape,
// rejects other dtypes and non-finite values, and rejects tensors named
// like a layer the model does not have; tensors with other names are
// ignored (a checkpoint keeps optimizer state beside the weights).
func (m *Model[T]) SetWeights(f *safetensors.File) error {
	count := map[string]int{}
	for _, l := range m.Layout.Layers {
		if kind, _, ok := strings.Cut(l.Name, "."); ok {
			count[kind]++
		}
	}
	for _, t := range f.Tensors {
		var i int
		var rest string
		for _, k := range kinds {
			if n, _ := fmt.Sscanf(t.Name, k.name+".%d.%s", &i, &rest); n == 2 && (i < 0 || i >= count[k.name]) {
				return fmt.Errorf("tensor %q: the model has %d %s layers", t.Name, count[k.name], k.name)
			}
		}
	}
	for _, l := range m.Layout.Layers {
		for _, info := range slices.Concat(l.Params, l.Buffers) {
			dst := m.Params[info.Offset : info.Offset+info.Size()]
			if !info.Trainable {
				dst = m.Buffers[info.Offset : info.Offset+info.Size()]
			}
			t := f.Tensor(info.Name)
			if t == nil {
				return fmt.Errorf("tensor %q: %w", info.Name, safetensors.ErrNoTensor)
			}
			if !slices.Equal(t.Shape, info.Shape) {
				return fmt.Errorf("tensor %q: shape %v, the model needs %v", info.Name, t.Shape, info.Shape)
			}
			if info.Int {
				if t.DType != "I64" || len(t.Data) != 8*len(dst) {
					return fmt.Errorf("tensor %q: want one I64, got %s of %d bytes", info.Name, t.DType, len(t.Data))
				}
				for j := range dst {
					v := int64(binary.LittleEndian.Uint64(t.Data[8*j:]))
					if v < 0 {
						return fmt.Errorf("tensor %q: %d batches tracked", info.Name, v)
					}
					dst[j] = T(v)
				}
				continue
			}
			if err := safetensors.Decode(dst, t.DType, t.Data); err != nil {
				return fmt.Errorf("tensor %q: %w", info.Name, err)
			}
			for j, v := range dst {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("tensor %q: element %d is %v", info.Name, j, v)
				}
				if info.Role == RoleRunningVar && v < 0 {
					return fmt.Errorf("tensor %q: element %d is a negative variance, %v", info.Name, j, v)
				}
			}
		}
	}
	return nil
}
