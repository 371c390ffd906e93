package model_test

import (
	"bytes"
	"fmt"

	"github.com/ptrain/ptrain/model"
)

// Parse a spec, run a forward pass, and round-trip the model through
// safetensors.
func Example() {
	spec, err := model.ParseSpec("4-8:tanh-3:softmax")
	if err != nil {
		panic(err)
	}
	m, _ := model.New[float64](spec, 7)
	fmt.Println(spec, "has", spec.NumParams(), "parameters")

	ws := model.NewWorkspace(m, 1)
	p := ws.Forward([]float64{0.1, -0.2, 0.3, 0.4}, 1, false)
	fmt.Printf("probabilities sum to %.3f\n", p[0]+p[1]+p[2])

	var buf bytes.Buffer
	_ = m.Save(&buf, nil)
	back, _, _ := model.Load[float64](&buf)
	fmt.Println("loaded", back.Spec, "equal:", back.Params[5] == m.Params[5])
	// Output:
	// 4-8:tanh-3:softmax has 67 parameters
	// probabilities sum to 1.000
	// loaded 4-8:tanh-3:softmax equal: true
}

func ExampleParseSpec_error() {
	_, err := model.ParseSpec("784-256:swish-10:softmax")
	fmt.Println(err)
	// Output: model spec "784-256:swish-10:softmax": part 2 "256:swish": unknown activation "swish" (want identity, sigmoid, tanh, relu, leakyrelu, leakyrelu(SLOPE) or softmax)
}

// Build a residual network: a stem, an identity block (y = relu(F(x) + x)),
// a strided block with a projection shortcut (y = relu(F(x) + P(x))), global
// average pooling and a softmax head; then run it on two images.
func Example_resNet() {
	spec := model.MustParseSpec("1x8x8-conv(8,3,pad=1)-bn:relu" +
		"-res(conv(8,3,pad=1)-bn:relu-conv(8,3,pad=1)-bn):relu" +
		"-res(conv(16,3,stride=2,pad=1)-bn:relu-conv(16,3,pad=1)-bn|conv(16,1,stride=2)-bn):relu" +
		"-gap-10:softmax")
	m, err := model.New[float32](spec, 1)
	if err != nil {
		panic(err)
	}
	for _, l := range m.Layout.Layers {
		if l.Spec.Kind == model.KindRes {
			fmt.Printf("block of layers %d-%d reads layers %v, output %v\n", l.First, l.Index, l.Inputs, l.Out)
		}
	}
	p := m.Predict(make([]float32, 2*64), 2)
	fmt.Println(len(m.Params), "parameters,", len(p), "outputs")
	// Output:
	// block of layers 2-6 reads layers [5 1], output 8x8x8
	// block of layers 7-13 reads layers [10 12], output 16x4x4
	// 5194 parameters, 20 outputs
}
