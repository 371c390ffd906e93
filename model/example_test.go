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
