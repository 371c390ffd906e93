package onnx_test

import (
	"fmt"
	"strings"

	"github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/onnx"
)

// Export a small CNN for the 8x8 digits, whose rows are pixel values 0-16
// scaled by 1/16 (the transform is part of the graph), and read back what
// the ONNX model says about itself. onnx.Save writes the same bytes to a
// file atomically; `ptrain export` does this for a checkpoint file.
func ExampleEncode() {
	m, _ := model.New[float32](model.MustParseSpec("1x8x8-conv(4,3)-bn:relu-maxpool(2)-flatten-10:softmax"), 1)
	scale := make([]float64, 64)
	for i := range scale {
		scale[i] = 1.0 / 16
	}
	c := &checkpoint.Checkpoint[float32]{Model: m, Task: new(data.Classification), Transform: data.Transform{Scale: scale}}
	b, err := onnx.Encode(c, onnx.Options{})
	if err != nil {
		panic(err)
	}
	s, err := onnx.Parse(b)
	if err != nil {
		panic(err)
	}
	fmt.Println("IR", s.IRVersion, "opset", s.Opsets[0].Version)
	fmt.Println(s.Inputs[0], "->", s.Outputs[0])
	var ops []string
	for _, o := range s.Operators {
		ops = append(ops, o.Op)
	}
	fmt.Println(strings.Join(ops, " "))
	fmt.Println(s.Metadata[0].Key, s.Metadata[0].Value)
	// Output:
	// IR 7 opset 13
	// input float32[batch,1,8,8] -> output float32[batch,10]
	// Mul Conv BatchNormalization Relu MaxPool Flatten Gemm Softmax
	// ptrain.arch 1x8x8-conv(4,3)-bn:relu-maxpool(2)-flatten-10:softmax
}
