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
//   - with fewer than 32 columns and k ≥ 256, where Gemm would take
//     gemmBlockDot, gemmDot's smaller blocks if the rows make
//     gemmBlockDot's pad much more (blockDotPadsMore);
//   - otherwise, what MatMul computes.
//
// Each element's bits then depend on m, n, k and the instruction set, not
// on the element's place in a block or on the data.
func MatMulABtFixedRows[T Float](alpha T, a, b Matrix[T], beta T, c Matrix[T]) {
	m, k, n := a.Rows, a.Cols, b.Rows
	if b.Cols != k || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("num: MatMulABtFixedRows shapes a %dx%d, b %dx%d, c %dx%d", m, k, n, b.Cols, c.Rows, c.Cols))
	}
	if isa != nil && alpha != 0 {
		dot := useFixedRowsDot(m, n, k)
		if dot || (k >= 256 && abtPath(n, k) == pathBlockDot && blockDotPadsMore(m, n)) {
			// Gemm's checks (MatMul's below): the kernels do not check
			// bounds, and a Matrix's Data may be shorter than its shape.
			checkGemm(false, true, m, n, k, len(a.Data), k, len(b.Data), k, len(c.Data), n)
			if dot {
				gemmBlockDot(m, n, k, alpha, a.Data, k, b.Data, k, beta, c.Data, n)
			} else {
				gemmDot(m, n, k, alpha, a.Data, k, b.Data, k, beta, c.Data, n)
			}
			return
		}
	}
	MatMul(false, true, alpha, a, b, beta, c)
}

// blockDotPadsMore says whether gemmBlockDot's mr×nr blocks would compute
// so many more elements than the m×n product that gemmDot's 3×3 blocks,
// about 1.2 times slower per element computed, take less time: blocks
// that overhang c are moved back and recompute elements. Measured (CPU
// time, GFLOP/s, float32 and float64, best of 3; gemmDot → gemmBlockDot):
// LeNet-5's first weight gradient 6×25×1568, which 4×6 blocks compute as
// 8×30 elements and 3×3 ones as 6×27, 79 → 65 and 38 → 34 on AVX-512, 76
// → 60 and 36 → 32 in AVX2's 4×3 (8×27); the small CNN's 32×9×1456 (4×6:
// 32×12 against 33×9) 83 → 80 and 40 → 42, on AVX2 (32×9) 78 → 93 and 39
// → 48; ResNet-8's stem 16×9×2352 (4×6: 16×12 against 18×9) 71 → 83 and
// 38 → 43. (Rows are what abtPath cannot see; here they are the layer's
// output channels.) The blocks are those gemmBlockDot computes n columns
// in: since AVX-512's 4×5 blocks that store into c (Zen 5, CPU time, best
// of 3, float32), the small CNN's 32×9×1456 is 32×10 in them and runs 173
// GFLOP/s against gemmDot's 137; LeNet-5's 6×25×1568 (8×25 against 6×27)
// stays with gemmDot, 146 against 154 in blocks.
func blockDotPadsMore(m, n int) bool {
	mr, nr, _ := blockDotBlocks(n)
	up := func(x, to int) int { return (x + to - 1) / to * to }
	return 10*up(m, mr)*up(n, nr) > 12*up(m, 3)*up(n, 3)
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
