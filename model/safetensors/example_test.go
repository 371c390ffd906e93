package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ptrain/ptrain/model/safetensors"
)

// Write a float32 matrix and a byte vector with metadata, and read them back.
func ExampleWrite() {
	w := make([]byte, 0, 6*4)
	for _, v := range []float32{1, 2, 3, 4, 5, 6} {
		w = binary.LittleEndian.AppendUint32(w, math.Float32bits(v))
	}
	tensors := []safetensors.Tensor{
		{Name: "dense.0.weight", DType: "F32", Shape: []int{2, 3}, Data: w},
		{Name: "mask", DType: "U8", Shape: []int{3}, Data: []byte{1, 0, 1}},
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, tensors, map[string]string{"note": "example"}); err != nil {
		panic(err)
	}

	f, err := safetensors.Parse(buf.Bytes()) // f's tensors are views into buf's bytes
	if err != nil {
		panic(err)
	}
	t := f.Tensor("dense.0.weight")
	last := math.Float32frombits(binary.LittleEndian.Uint32(t.Data[len(t.Data)-4:]))
	fmt.Println(f.Names(), f.Metadata["note"])
	fmt.Println(t.DType, t.Shape, last)
	// Output:
	// [dense.0.weight mask] example
	// F32 [2 3] 6
}
