package num_test

import (
	"fmt"

	"github.com/ptrain/ptrain/model/num"
)

// A dense layer's forward product z = x·Wᵀ + b on views of flat buffers,
// the way model lays out its parameters: W (out, in) then b (out).
func ExampleMatMul() {
	params := num.Alloc[float32](2*3 + 2) // W is (2, 3), b is (2)
	copy(params, []float32{1, 0, -1, 2, 1, 0, 0.5, -0.5})
	w := num.View(2, 3, params)
	b := params[6:8]

	x := num.View(2, 3, []float32{1, 2, 3, 4, 5, 6}) // (batch 2, in 3)
	z := num.View(2, 2, make([]float32, 4))          // (batch 2, out 2)
	for i := 0; i < z.Rows; i++ {
		copy(z.Row(i), b)
	}
	num.MatMul(false, true, 1, x, w, 1, z)
	fmt.Println(z.Row(0), z.Row(1))
	// Output: [-1.5 3.5] [-1.5 12.5]
}

// A convolution's weight gradient dW = dZ·colsᵀ: a row per output channel
// (a dimension of the model, never a shard of the batch), a column per
// weight of a channel, k the unrolled pixels.
func ExampleMatMulABtFixedRows() {
	dz := num.View(2, 3, []float32{1, 0, 2, 0, 1, 1})   // 2 output channels × 3 pixels
	cols := num.View(2, 3, []float32{1, 1, 1, 2, 0, 1}) // 2 weights × 3 pixels
	dw := num.View(2, 2, []float32{10, 10, 10, 10})     // accumulated over groups
	num.MatMulABtFixedRows(1, dz, cols, 1, dw)
	fmt.Println(dw.Data)
	// Output: [13 14 12 11]
}
