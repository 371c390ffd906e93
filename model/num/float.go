package num

import "unsafe"

// Float is the element type of every numeric buffer in ptrain.
// It is deliberately exact (no ~): blas.go relies on []T having the memory
// layout of []float32 or []float64.
type Float interface {
	float32 | float64
}

// Is32 reports whether T is float32.
func Is32[T Float]() bool {
	var z T
	return unsafe.Sizeof(z) == 4
}

// DType is the safetensors name of T: "F32" or "F64".
func DType[T Float]() string {
	if Is32[T]() {
		return "F32"
	}
	return "F64"
}
