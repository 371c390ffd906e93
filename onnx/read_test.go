package onnx

import (
	"math"
	"testing"
)

// A hostile file's initializer dimensions must not wrap Summary.Weights
// around to a small or negative count.
func TestElementsSaturate(t *testing.T) {
	for _, c := range []struct {
		dims []int64
		want int64
	}{
		{nil, 1},
		{[]int64{3, 4}, 12},
		{[]int64{-5, 4}, 0},
		{[]int64{0, math.MaxInt64}, 0},
		{[]int64{1 << 32, 1 << 32}, math.MaxInt64},
		{[]int64{math.MaxInt64, 2}, math.MaxInt64},
	} {
		if got := elements(c.dims); got != c.want {
			t.Errorf("elements(%v) = %d, want %d", c.dims, got, c.want)
		}
	}
	if got := satAdd(math.MaxInt64-1, 5); got != math.MaxInt64 {
		t.Errorf("satAdd past the top = %d, want MaxInt64", got)
	}
	if got := satAdd(2, 3); got != 5 {
		t.Errorf("satAdd(2, 3) = %d", got)
	}
}
