package num

import "unsafe"

// gemmDot computes c = alpha·a·bᵀ + beta·c for row-major a (m×k) and b
// (n×k) as m·n dot products over k, 3×3 at a time, vectorised along k.
//
// It is the kernel for very few, long columns: fewer than a block of
// gemmBlockDot's (isa.bdot.nr: 6 with AVX-512, 3 with AVX2) with k ≥ 256,
// such as a two-class classifier's x·Wᵀ; gemmBlockDot takes the other
// products of fewer than 32 columns (abtPath), a convolution's weight
// gradient among them, except where its blocks would pad the layer's rows
// much more (MatMulABtFixedRows: LeNet-5's first layer, 6×25×1568). The
// tiles of gemmPacked would compute 32 columns to keep 2, and pack both
// operands for a product that reads each element once.
//
// The kernel sums its lanes in a fixed tree and the k tail (k mod lanes)
// runs in Go, so results depend only on the shapes, as in gemmPacked.
func gemmDot[T Float](m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	lanes := vecLanes[T]()
	kv := k - k%lanes
	// The kernel's row pointers and results live in packing space: on the
	// stack they would escape to the heap, an allocation per call.
	buf := getGemmBuf()
	defer putGemmBuf(buf)
	rows := (*[6]*T)(unsafe.Pointer(&buf.ptrs))
	out := asT[T](buf.a)[:9] // the block's dot products over the first kv elements
	for i := 0; i < m; i += 3 {
		for j := 0; j < n; j += 3 {
			// Past the edge of c, a row repeats the last one: computed, not kept.
			for r := range 3 {
				rows[r] = &a[min(i+r, m-1)*lda]
				rows[3+r] = &b[min(j+r, n-1)*ldb]
			}
			if kv > 0 {
				dotKernel(kv/lanes, rows, &out[0])
			}
			for r := 0; r < 3 && i+r < m; r++ {
				ar := a[(i+r)*lda : (i+r)*lda+k]
				for q := 0; q < 3 && j+q < n; q++ {
					br := b[(j+q)*ldb : (j+q)*ldb+k]
					var s T
					if kv > 0 {
						s = out[r*3+q]
					}
					for p := kv; p < k; p++ {
						s += ar[p] * br[p]
					}
					x := &c[(i+r)*ldc+j+q]
					if beta == 0 {
						*x = alpha * s
					} else {
						*x = alpha*s + beta**x
					}
				}
			}
		}
	}
}

// dotKernel calls isa's dot-product kernel for T.
func dotKernel[T Float](n int, rows *[6]*T, out *T) {
	if Is32[T]() {
		isa.sdot(n, (*[6]*float32)(unsafe.Pointer(rows)), (*float32)(unsafe.Pointer(out)))
		return
	}
	isa.ddot(n, (*[6]*float64)(unsafe.Pointer(rows)), (*float64)(unsafe.Pointer(out)))
}

// useGemmDot says whether gemmDot computes a·bᵀ of these shapes instead
// of gemmPacked, where useBlockDot does not take them first: for fewer
// columns than 32, and k long enough that the vector loop outweighs the
// lane sums in Go. Measured on Zen 4 (CPU time, float32): 32×9×1456 at 14
// GFLOP/s in tiles, 64 here; 6×25×1568 at 14 and 60; 32×16×1176 (ResNet-8's
// 1×1 shortcut) at 55 and 72 on AVX2. At 32 columns the tiles win: 64×32×637
// ran at 77 in AVX2 tiles, 60 here (AVX-512: 82 and 51).
func useGemmDot(m, n, k int) bool {
	return n < 32 && k >= 256
}

// The paths of a·bᵀ (abtPath).
const (
	pathPacked   = iota // gemmPacked
	pathDot             // gemmDot
	pathBlockDot        // gemmBlockDot
)

// abtPath is which kernel computes a·bᵀ, b n×k, on the running
// instruction set: the one rule that Gemm and NewPackedB (which packs only
// for gemmPacked) both follow. It sees n and k, never the rows of a, so
// that every shard of a batch takes the path of the whole batch and gets
// its bits.
func abtPath(n, k int) int {
	switch {
	case useBlockDot(n, k):
		return pathBlockDot
	case useGemmDot(0, n, k):
		return pathDot
	}
	return pathPacked
}

// useBlockDot says whether gemmBlockDot computes a·bᵀ of these shapes:
// fewer than 32 columns with k ≥ 128, unless they are also fewer than a
// block's (nr) with k ≥ 256, which gemmDot's 3×3 blocks compute with less
// waste. That is the classifiers' forward x·Wᵀ (m×10×128 and m×10×784),
// which gemmPacked computes in tiles of 32 columns to keep 10, and the
// weight gradients dZ·colsᵀ of convolutions with fewer than 32 weights per
// output channel (a first layer's 9 or 25, a 1×1 shortcut's 16).
// Measured (BenchmarkGemmBlockDot, CPU time, one thread, best of 3, Zen 4
// under load; GFLOP/s, tiles with their packing → here), 16 and 64 rows:
// float32 on AVX-512 12.9 → 49.7 and 21.6 → 50.6, on AVX2 23.7 → 67.3 and
// 35.8 → 47.9; float64 18.0 → 34.3 and 22.9 → 34.6, AVX2 26.8 → 33.2 and
// 28.8 → 32.9. Against gemmDot (float32, AVX-512; AVX2): 32×16×1176 62 →
// 88, 72 → 85; 16×9×2352 61 → 80, 66 → 85; 32×9×1456 70 → 74, 73 → 86;
// 64×10×784 56 → 77, 64 → 81; 6×25×1568 66 and 60 both ways; float64 alike.
// gemmDot stays faster with 2 columns (16×2×300: 21 → 18), which it keeps,
// and with fewer rows than a block (1×10×784: 25 → 16), which the rule
// cannot see: those products run here.
// Many columns are left to the tiles because the rule may
// not see m (abtPath), and the kernel wins there only with few rows: the
// MLP's 784→256 (AVX-512, float32) ran at 90 here against 65 in tiles at
// 16 rows (but 96 on a packing made beforehand, as the trainer shares
// one), 88–96 against 90–95 at 64–128 rows, and 83 against 94 at 512 (AVX2:
// 71 against 96); its 256→128 at 72–76 against 77–98 at every row count.
func useBlockDot(n, k int) bool {
	return isa != nil && isa.bdot.mr > 0 && n < 32 && k >= 128 && (k < 256 || n >= isa.bdot.nr)
}

// vecLanes is how many elements of T one of isa's vectors holds: the k
// step of the dot-product kernels. gemmDot adds the k tail (k mod vecLanes)
// in Go; gemmBlockDot's kernels take it as one more zero-padded vector.
func vecLanes[T Float]() int {
	if Is32[T]() {
		return isa.lanes32
	}
	return isa.lanes32 / 2
}
