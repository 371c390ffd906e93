package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
)

// A torch.nn.Sequential's state_dict names its tensors by module position,
// activations, pooling and dropout included: 0.weight, 0.bias, 2.weight,
// … for Linear, ReLU, Linear. Those positions say nothing about ptrain's
// names (dense.0, conv.0, bn.0), but their order does: the modules with
// tensors, in ascending position, are the model's layers with tensors, in
// order. fromSequential renames them so; SetWeights then checks every
// shape, as for a file with ptrain's names.

// sequentialTensors are the tensor names of one PyTorch module, by
// ptrain's layer kind.
var sequentialTensors = map[string][]string{
	"dense": {"weight", "bias"},
	"conv":  {"weight", "bias"},
	"bn":    {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"},
}

// fromSequential returns f with PyTorch's positional names mapped to the
// layout's, and true; or f itself and false when f does not hold
// positional names only, or their modules do not match the layout's
// layers with tensors one for one (by count and kind).
func fromSequential(f *safetensors.File, layout model.Layout) (*safetensors.File, bool) {
	modules := map[int]map[string]safetensors.Tensor{}
	for _, t := range f.Tensors {
		pos, field, ok := strings.Cut(t.Name, ".")
		i, err := strconv.Atoi(pos)
		if !ok || err != nil || i < 0 || strings.Contains(field, ".") {
			return f, false
		}
		if modules[i] == nil {
			modules[i] = map[string]safetensors.Tensor{}
		}
		modules[i][field] = t
	}
	var layers []model.LayerInfo
	for _, l := range layout.Layers {
		if len(l.Params)+len(l.Buffers) > 0 {
			layers = append(layers, l)
		}
	}
	order := slices.Sorted(func(yield func(int) bool) {
		for i := range modules {
			if !yield(i) {
				return
			}
		}
	})
	if len(order) == 0 || len(order) != len(layers) {
		return f, false
	}
	out := &safetensors.File{Metadata: f.Metadata}
	for k, pos := range order {
		kind, _, _ := strings.Cut(layers[k].Name, ".")
		fields := sequentialTensors[kind]
		if len(modules[pos]) > len(fields) {
			return f, false
		}
		for _, field := range fields {
			t, ok := modules[pos][field]
			if !ok {
				if kind == "bn" && field == "num_batches_tracked" {
					continue // SetWeights names what is missing
				}
				return f, false
			}
			t.Name = layers[k].Name + "." + field
			out.Tensors = append(out.Tensors, t)
		}
	}
	return out, true
}

// describeInit is the line a run started with -init prints: the file, the
// tensors and parameters loaded, and how positional names were read.
func describeInit(path string, f *safetensors.File, params int, mapped bool) string {
	s := fmt.Sprintf("ptrain: -init %s: loaded %d tensors, %d parameters", path, len(f.Tensors), params)
	if mapped {
		s += " (a PyTorch nn.Sequential's positional names, mapped in order to " + f.Tensors[0].Name + ", …)"
	}
	return s
}
