package num

import (
	"fmt"
	"testing"
)

// TestTransposeRowsEveryBlock checks transposeRows against its definition
// for every row count up to 19 (each mix of 8-, 4- and 2-row register
// blocks and a last odd row) and column counts around the vector lengths,
// with ldd wider than rows: nothing outside the transposed elements of
// dst may change.
func TestTransposeRowsEveryBlock(t *testing.T) {
	if isa == nil {
		t.Skip("no register transposes in this build")
	}
	testTransposeRows[float32](t)
	testTransposeRows[float64](t)
}

func testTransposeRows[T Float](t *testing.T) {
	for rows := 1; rows <= 19; rows++ {
		for _, n := range []int{1, 3, 4, 7, 8, 9, 16, 21, 40} {
			lds, ldd := n+3, rows+2
			src := make([]T, rows*lds)
			for i := range src {
				src[i] = T(i + 1)
			}
			dst := make([]T, n*ldd+5)
			for i := range dst {
				dst[i] = -1
			}
			transposeRows(src, lds, rows, n, dst, ldd)
			for i, v := range dst {
				p, r := i/ldd, i%ldd
				want := T(-1)
				if p < n && r < rows {
					want = src[r*lds+p]
				}
				if v != want {
					t.Fatalf("%s rows=%d n=%d: dst[%d] (p=%d, r=%d) = %v, want %v", fmt.Sprintf("%T", v), rows, n, i, p, r, v, want)
				}
			}
		}
	}
}
