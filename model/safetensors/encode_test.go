package safetensors

import (
	"bytes"
	"math"
	"testing"
)

// TestEncodeIsLittleEndian checks Encode against bytes written out by hand
// (IEEE 754, least significant byte first), on both of its paths: the view
// of the floats that little-endian machines take, and the byte-by-byte
// copy for big-endian ones, reached here by clearing littleEndian.
func TestEncodeIsLittleEndian(t *testing.T) {
	x32 := []float32{1.5, -2, float32(math.Inf(1)), 3e-42}
	want32 := []byte{
		0x00, 0x00, 0xc0, 0x3f, // 1.5 = 0x3fc00000
		0x00, 0x00, 0x00, 0xc0, // −2 = 0xc0000000
		0x00, 0x00, 0x80, 0x7f, // +Inf = 0x7f800000
		0x5d, 0x08, 0x00, 0x00, // 3e-42, subnormal: 0x0000085d
	}
	x64 := []float64{1.5, -2, 5e-324}
	want64 := []byte{
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, // 1.5 = 0x3ff8000000000000
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, // −2 = 0xc000000000000000
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 5e-324 = 0x0000000000000001
	}
	defer func(le bool) { littleEndian = le }(littleEndian)
	paths := map[string]bool{"this machine's": littleEndian, "big-endian": false}
	for path, le := range paths {
		littleEndian = le
		if got := Encode(x32); !bytes.Equal(got, want32) {
			t.Errorf("%s path: Encode(float32) = % x, want % x", path, got, want32)
		}
		if got := Encode(x64); !bytes.Equal(got, want64) {
			t.Errorf("%s path: Encode(float64) = % x, want % x", path, got, want64)
		}
		if got := Encode([]float32{}); len(got) != 0 {
			t.Errorf("%s path: Encode of nothing = % x", path, got)
		}
	}
}
