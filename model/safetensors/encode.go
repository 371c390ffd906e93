package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/ptrain/ptrain/model/num"
)

// Encode returns the little-endian bytes of x, the Data of an F32 or F64
// tensor (num.DType names which), for writing out at once. On a
// little-endian machine they are a view of x's memory, not a copy: valid
// while x is, and changing with it. A checkpoint after every epoch would
// otherwise leave megabytes of garbage per epoch, and with a large
// dataset live the collector lets that pile up to the size of the dataset
// again (peak RSS of 20 MNIST epochs: 144 MB with copies).
func Encode[T num.Float](x []T) []byte {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(x) == 0 {
		return []byte{}
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), len(x)*size)
	}
	out := make([]byte, len(x)*size)
	for i, v := range x {
		if size == 4 {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(float32(v)))
		} else {
			binary.LittleEndian.PutUint64(out[8*i:], math.Float64bits(float64(v)))
		}
	}
	return out
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Decode fills dst from raw little-endian data of dtype F32 or F64,
// converting to T. len(data) must be exactly len(dst) elements.
func Decode[T num.Float](dst []T, dtype string, data []byte) error {
	switch dtype {
	case "F32":
		if len(data) != 4*len(dst) {
			return fmt.Errorf("%d bytes of F32 for %d values", len(data), len(dst))
		}
		for i := range dst {
			dst[i] = T(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
		}
	case "F64":
		if len(data) != 8*len(dst) {
			return fmt.Errorf("%d bytes of F64 for %d values", len(data), len(dst))
		}
		for i := range dst {
			dst[i] = T(math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:])))
		}
	default:
		return fmt.Errorf("dtype %s is not supported (want F32 or F64)", dtype)
	}
	return nil
}
