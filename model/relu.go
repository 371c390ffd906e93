package model

import (
	"math"
	"unsafe"

	"github.com/ptrain/ptrain/model/num"
)

// ReLU is written with bit masks instead of comparisons: about half of the
// activations are zero in no predictable pattern, and a branch per element
// mispredicted so often that ReLU's backward pass cost 8% of a training step
// at batch 512 (4 ns per element).

// The loops are concrete functions, not generic ones: when another package
// instantiates the generic code (the trainer does), Go 1.26 compiled
// math.Float32bits as a call in every iteration, and ReLU took 16% of a
// batch-128 training step (perf); concrete loops made that step 15% faster.
// The benchmarks below instantiate in this package, where the calls were
// inlined, so they do not show it. On amd64 with AVX2 the float32 loops
// run 8 lanes at a time in relu_amd64.s, with the same bit operations.

// reluForward writes a = max(z, 0): the sign bit, smeared over the word,
// clears every negative input (and −0).
func reluForward[T num.Float](z, a []T) {
	if num.Is32[T]() {
		reluForward32(num.As32(z), num.As32(a))
	} else {
		reluForward64(num.As64(z), num.As64(a))
	}
}

func reluForward32(z, a []float32) {
	a = a[:len(z)]
	i := 0
	if n := len(z) &^ 7; haveAVX2 && n > 0 {
		reluForward32AVX2(&z[0], &a[0], n)
		i = n
	}
	for ; i < len(z); i++ {
		v := z[i]
		b := math.Float32bits(v)
		a[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

func reluForward64(z, a []float64) {
	a = a[:len(z)]
	for i, v := range z {
		b := math.Float64bits(v)
		a[i] = math.Float64frombits(b &^ uint64(int64(b)>>63))
	}
}

// reluBackward zeroes d where the ReLU output a is zero. a ≥ 0, so a > 0
// exactly when its bits are non-zero, and (x | −x) has its sign bit set
// exactly when x ≠ 0.
func reluBackward[T num.Float](a, d []T) {
	if num.Is32[T]() {
		reluBackward32(num.As32(a), num.As32(d))
	} else {
		reluBackward64(num.As64(a), num.As64(d))
	}
}

func reluBackward32(a, d []float32) {
	d = d[:len(a)]
	i := 0
	if n := len(a) &^ 7; haveAVX2 && n > 0 {
		reluBackward32AVX2(&a[0], &d[0], n)
		i = n
	}
	for ; i < len(a); i++ {
		v := a[i]
		b := int32(math.Float32bits(v))
		mask := uint32((b | -b) >> 31)
		d[i] = math.Float32frombits(math.Float32bits(d[i]) & mask)
	}
}

func reluBackward64(a, d []float64) {
	d = d[:len(a)]
	for i, v := range a {
		b := int64(math.Float64bits(v))
		mask := uint64((b | -b) >> 63)
		d[i] = math.Float64frombits(math.Float64bits(d[i]) & mask)
	}
}

// reluFused is a layer that applies a ReLU activation in the pass that
// computes its output (batch norm, a residual block's sum): forwardReLU
// runs Forward on the inputs xs (in the order of Info().Inputs) and writes
// a = max(z, 0) without storing z, the same bits as Forward and the
// Workspace's ReLU post-step, with one pass over the output instead of
// two. The Workspace uses it for a ReLU layer that is not the last (whose
// z the loss reads); nothing else reads the z of such a layer.
type reluFused[T num.Float] interface {
	forwardReLU(p *pass[T], xs [][]T, a []T)
}

// reluBackFused is a reluFused layer whose Backward also takes the
// gradient through its ReLU (pass.ReLUBackward), in its first pass over dz,
// instead of the Workspace's pass over the output and dz before it.
type reluBackFused interface{ reluBackFused() }

// fuseReLUBackward is whether the Workspace lets reluBackFused layers take
// their ReLU's backward (a variable for tests that compare with the
// Workspace's own pass).
var fuseReLUBackward = true

// reluBits is max(v, 0) with reluForward's bit operations.
func reluBits[T num.Float](v T) T {
	if num.Is32[T]() {
		b := *(*uint32)(unsafe.Pointer(&v))
		b &^= uint32(int32(b) >> 31)
		return *(*T)(unsafe.Pointer(&b))
	}
	b := *(*uint64)(unsafe.Pointer(&v))
	b &^= uint64(int64(b) >> 63)
	return *(*T)(unsafe.Pointer(&b))
}
