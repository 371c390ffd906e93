//go:build !purego

package num

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "python3 gen_kernels.py > gemm_amd64.s"

// The micro-kernels of gemm_amd64.s (see there for the contract).

//go:noescape
func sgemmKernelAVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int)

//go:noescape
func dgemmKernelAVX512(kc int, a, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int)

//go:noescape
func sgemmKernelAVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int)

//go:noescape
func dgemmKernelAVX2(kc int, a, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int)

//go:noescape
func sgemmKernelAVX2x4(kc int, a, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int)

//go:noescape
func dgemmKernelAVX2x4(kc int, a, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int)

//go:noescape
func sgemmKernelAVX512x6(kc int, a, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int)

//go:noescape
func dgemmKernelAVX512x6(kc int, a, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int)

//go:noescape
func sgemmKernelAVX512x10(kc int, a, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int)

//go:noescape
func dgemmKernelAVX512x10(kc int, a, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int)

//go:noescape
func sgemmKernelAVX512x8A(kc int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int)

//go:noescape
func dgemmKernelAVX512x8A(kc int, a *float64, lda int, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int)

//go:noescape
func sgemmKernelAVX512x6A(kc int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int)

//go:noescape
func dgemmKernelAVX512x6A(kc int, a *float64, lda int, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int)

//go:noescape
func sgemmKernelAVX512x10A(kc int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int)

//go:noescape
func dgemmKernelAVX512x10A(kc int, a *float64, lda int, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int)

//go:noescape
func sdotKernelAVX512(n int, rows *[6]*float32, out *float32)

//go:noescape
func ddotKernelAVX512(n int, rows *[6]*float64, out *float64)

//go:noescape
func sdotKernelAVX2(n int, rows *[6]*float32, out *float32)

//go:noescape
func ddotKernelAVX2(n int, rows *[6]*float64, out *float64)

//go:noescape
func sblockDotAVX512(n int, a *float32, lda int, b *float32, ldb int, out *float32, at, bt *float32)

//go:noescape
func dblockDotAVX512(n int, a *float64, lda int, b *float64, ldb int, out *float64, at, bt *float64)

//go:noescape
func sblockDotCAVX512x5(n int, a *float32, lda int, b *float32, ldb int, at, bt *float32, c *float32, ldc, r0, rows, cmask, load int, alpha, beta float32, blocks int)

//go:noescape
func dblockDotCAVX512x5(n int, a *float64, lda int, b *float64, ldb int, at, bt *float64, c *float64, ldc, r0, rows, cmask, load int, alpha, beta float64, blocks int)

//go:noescape
func sblockDotAVX2(n int, a *float32, lda int, b *float32, ldb int, out *float32, at, bt *float32)

//go:noescape
func dblockDotAVX2(n int, a *float64, lda int, b *float64, ldb int, out *float64, at, bt *float64)

// On AVX-512 the tile is 8 rows of 2 vectors (32 float32 or 16 float64
// columns): 16 of the 32 vector registers accumulate; or 6 rows of 2
// vectors, for row counts that 8 wastes (6 rows: LeNet-5's first
// convolution; see tiles), or 10 rows of 2 vectors (20 accumulators), for
// 10 rows (a 10-class classifier's weight gradient dZᵀ·h, which 6-row
// tiles compute as 12). Their panels of B are those of the 8-row tile, so
// a PackedB serves all three. On
// AVX2 it is 6 rows of 2 vectors: 12 of the 16 accumulate, 2 hold B's row,
// 2 the broadcasts; or 4 rows of 3 vectors (24 float32 or 12 float64
// columns; 12 accumulate, 3 hold B's row, 1 the broadcasts), for row
// counts that 6 wastes (16, 32).
//
// The 6-row AVX-512 tile replaced AVX2's 6-row one that products of up to
// 6 rows ran on AVX-512 CPUs: the same FMAs per element in the same order
// (the same bits), half the instructions, and on a CPU whose 512-bit FMAs
// run at full width (Zen 5) twice the peak: LeNet-5's 6×1568×25 at 128
// GFLOP/s on AVX2's tile and 234 on this one (float64: 65 and 118; CPU
// time, best of 3 interleaved runs, Zen 5, where OpenBLAS's best reaches
// 250 and 125).
//
// directM: with AVX-512's tiles, products of up to 64 rows read an
// untransposed B in place (at most 8 row panels pass over each B panel);
// measured against packing, float32 CPU time, Zen 4: 64×256×128 at 110
// GFLOP/s instead of 104, ResNet-8's 64×539×288 and 64×392×576
// convolutions at 103 and 97 instead of 95 and 94. With AVX2's tiles, up
// to 32 rows: at 64 the 4×24 tile lost 3% as often as it gained.
var (
	isaAVX512 = &gemmISA{name: "AVX-512", s: kernel32{8, 32, sgemmKernelAVX512, sgemmKernelAVX512x8A}, d: kernel64{8, 16, dgemmKernelAVX512, dgemmKernelAVX512x8A},
		s2: kernel32{6, 32, sgemmKernelAVX512x6, sgemmKernelAVX512x6A}, d2: kernel64{6, 16, dgemmKernelAVX512x6, dgemmKernelAVX512x6A}, s2Below: 32,
		s3: kernel32{10, 32, sgemmKernelAVX512x10, sgemmKernelAVX512x10A}, d3: kernel64{10, 16, dgemmKernelAVX512x10, dgemmKernelAVX512x10A},
		sdot: sdotKernelAVX512, ddot: ddotKernelAVX512, lanes32: 16, directM: 64,
		bdot: blockDot{4, 6, sblockDotAVX512, dblockDotAVX512}, bdotC: blockDotC{4, 5, sblockDotCAVX512x5, dblockDotCAVX512x5}}
	isaAVX2 = &gemmISA{name: "AVX2", s: kernel32{6, 16, sgemmKernelAVX2, nil}, d: kernel64{6, 8, dgemmKernelAVX2, nil},
		s2: kernel32{4, 24, sgemmKernelAVX2x4, nil}, d2: kernel64{4, 12, dgemmKernelAVX2x4, nil},
		sdot: sdotKernelAVX2, ddot: ddotKernelAVX2, lanes32: 8, directM: 32,
		bdot: blockDot{4, 3, sblockDotAVX2, dblockDotAVX2}}
)

// bestISA is the widest instruction set this CPU runs: AVX-512F (with the
// OS saving the ZMM state, which cpu checks) or AVX2 with FMA.
func bestISA() *gemmISA {
	switch {
	case cpu.X86.HasAVX512F:
		return isaAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return isaAVX2
	}
	return nil
}

// The transposing copies of pack_amd64.s.

//go:noescape
func transpose8x32(src *float32, lds, n int, dst *float32, ldd int)

//go:noescape
func transpose4x64(src *float64, lds, n int, dst *float64, ldd int)

//go:noescape
func transpose4x32(src *float32, lds, n int, dst *float32, ldd int)

//go:noescape
func transpose2x32(src *float32, lds, n int, dst *float32, ldd int)

//go:noescape
func transpose2x64(src *float64, lds, n int, dst *float64, ldd int)

//go:noescape
func copyRows(dst, src unsafe.Pointer, rows, width, lds int)
