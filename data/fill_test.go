package data

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Filling float32 rows from uint8 features must give float32(Value(i, j))
// to the bit, with the vector loop and with the Go loop, with and without
// a shift, at lengths around the 4-lane block.
func TestFillRowU8MatchesValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	orig := haveAVX
	defer func() { haveAVX = orig }()
	for _, f := range []int{1, 3, 4, 7, 8, 13, 784} {
		for _, shifted := range []bool{false, true} {
			d := &Dataset{N: 3, Features: f, U8: make([]uint8, 3*f), Scale: make([]float64, f)}
			for i := range d.U8 {
				d.U8[i] = uint8(rng.IntN(256))
			}
			for j := range d.Scale {
				d.Scale[j] = rng.NormFloat64() / 37
			}
			if shifted {
				d.Shift = make([]float64, f)
				for j := range d.Shift {
					d.Shift[j] = rng.NormFloat64() * 3
				}
			}
			for _, vec := range []bool{true, false} {
				haveAVX = vec && orig
				dst := make([]float32, f)
				for i := 0; i < d.N; i++ {
					FillRow(d, i, dst)
					for j, got := range dst {
						if want := float32(d.Value(i, j)); math.Float32bits(got) != math.Float32bits(want) {
							t.Fatalf("features %d, shift %v, vector %v: row %d column %d = %v, Value gives %v", f, shifted, haveAVX, i, j, got, want)
						}
					}
				}
			}
		}
	}
}
