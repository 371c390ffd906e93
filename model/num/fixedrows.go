package num

import "fmt"

// MatMulABtFixedRows computes c = alpha·a·bᵀ + beta·c (a m×k, b n×k, c m×n,
// all row-major views) like MatMul(false, true, …), for a product whose
// rows of a are a fixed dimension of the model, never a shard of the
// batch: a convolution's weight gradient dZ·colsᵀ, a row per output
// channel and k the pixels of a group of samples. Gemm's rule for a·bᵀ
// (abtPath) may not look at m, so that every worker's rows of a dense
// layer get the bits of the whole batch; here nothing depends on how the
// batch is cut into rows, so the path may follow m too:
//
//   - with few rows (useFixedRowsDot), gemmBlockDot reads both operands
//     where they lie. gemmPacked would transpose all of b (the unrolled
//     image, n·k elements) into panels for only m rows to stream past them;
//   - otherwise, what MatMul computes.
//
// Each element's bits then depend on k and the instruction set, as in
// gemmBlockDot, not on m or on the element's place in a block.
func MatMulABtFixedRows[T Float](alpha T, a, b Matrix[T], beta T, c Matrix[T]) {
	m, k, n := a.Rows, a.Cols, b.Rows
	if b.Cols != k || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("num: MatMulABtFixedRows shapes a %dx%d, b %dx%d, c %dx%d", m, k, n, b.Cols, c.Rows, c.Cols))
	}
	if isa != nil && alpha != 0 && useFixedRowsDot(m, n, k) && ownShape(false, m, n, k) {
		// Gemm's checks (MatMul's below): gemmBlockDot's kernels do not
		// check bounds, and a Matrix's Data may be shorter than its shape.
		checkGemm(false, true, m, n, k, len(a.Data), k, len(b.Data), k, len(c.Data), n)
		gemmBlockDot(m, n, k, alpha, a.Data, k, b.Data, k, beta, c.Data, n)
		return
	}
	MatMul(false, true, alpha, a, b, beta, c)
}

// useFixedRowsDot says whether gemmBlockDot computes a·bᵀ of m fixed rows
// where Gemm would pack b: from a block's rows (isa.bdot.mr) to 16 rows, 32
// or more columns and k ≥ 256 (fewer columns are abtPath's already).
// Measured (BenchmarkGemmBlockDot, CPU time, one thread, Zen 4; GFLOP/s,
// gemmPacked with its packing → here), float32: ResNet-8's 16-channel
// weight gradients 16×144×784 on AVX-512 61 → 97 and on AVX2 59–68 →
// 75–82, 16×144×1568 65 → 100–106; float64 on AVX-512 34 → 51, on AVX2
// 33–36 → 36–42. At 32 rows it wins on AVX-512 for 144 columns (32×144×784:
// 72–78 → 90–97) but not for 288 (32×288×588: 93 → 83), and loses on AVX2
// (32×144×784: 83 → 75); at 64 rows the packing is shared by enough rows
// that the tiles win (64×288×784: 97 → 85–92).
func useFixedRowsDot(m, n, k int) bool {
	return isa.bdot.mr > 0 && m >= isa.bdot.mr && m <= 16 && n >= 32 && k >= 256
}
