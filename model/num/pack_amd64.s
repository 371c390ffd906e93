//go:build !purego

#include "textflag.h"

// Transposing copies for gemm.go's packing (pack.go): 8, 4 or 2 rows of
// float32 or 4 or 2 rows of float64 in, one run per source column out.
// AVX only.

// func transpose8x32(src *float32, lds, n int, dst *float32, ldd int)
// dst[p·ldd + r] = src[r·lds + p] for r < 8, p < n; n is a multiple of 8.
// Each 8×8 block is transposed in registers: unpack pairs of rows, shuffle
// pairs of pairs, then swap 128-bit halves.
TEXT ·transpose8x32(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	MOVQ n+16(FP), CX
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), DX
	SHLQ $2, AX
	SHLQ $2, DX
	LEAQ (AX)(AX*2), BX // 3·lds
	LEAQ (DX)(DX*2), R8 // 3·ldd
	SHRQ $3, CX
	JEQ  t32done

t32loop:
	MOVQ    SI, R9
	VMOVUPS (R9), Y0
	VMOVUPS (R9)(AX*1), Y1
	VMOVUPS (R9)(AX*2), Y2
	VMOVUPS (R9)(BX*1), Y3
	LEAQ    (R9)(AX*4), R9
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(AX*1), Y5
	VMOVUPS (R9)(AX*2), Y6
	VMOVUPS (R9)(BX*1), Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0  // columns 0 and 4 of rows 0–3
	VSHUFPS $0xEE, Y10, Y8, Y1  // 1 and 5
	VSHUFPS $0x44, Y11, Y9, Y2  // 2 and 6
	VSHUFPS $0xEE, Y11, Y9, Y3  // 3 and 7
	VSHUFPS $0x44, Y14, Y12, Y4 // the same of rows 4–7
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8  // column 0
	VPERM2F128 $0x20, Y5, Y1, Y9  // 1
	VPERM2F128 $0x20, Y6, Y2, Y10 // 2
	VPERM2F128 $0x20, Y7, Y3, Y11 // 3
	VPERM2F128 $0x31, Y4, Y0, Y12 // 4
	VPERM2F128 $0x31, Y5, Y1, Y13 // 5
	VPERM2F128 $0x31, Y6, Y2, Y14 // 6
	VPERM2F128 $0x31, Y7, Y3, Y15 // 7

	MOVQ    DI, R9
	VMOVUPS Y8, (R9)
	VMOVUPS Y9, (R9)(DX*1)
	VMOVUPS Y10, (R9)(DX*2)
	VMOVUPS Y11, (R9)(R8*1)
	LEAQ    (R9)(DX*4), R9
	VMOVUPS Y12, (R9)
	VMOVUPS Y13, (R9)(DX*1)
	VMOVUPS Y14, (R9)(DX*2)
	VMOVUPS Y15, (R9)(R8*1)

	ADDQ $32, SI
	LEAQ (DI)(DX*8), DI
	DECQ CX
	JNZ  t32loop

t32done:
	VZEROUPPER
	RET

// func transpose4x64(src *float64, lds, n int, dst *float64, ldd int)
// dst[p·ldd + r] = src[r·lds + p] for r < 4, p < n; n is a multiple of 4.
TEXT ·transpose4x64(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	MOVQ n+16(FP), CX
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), DX
	SHLQ $3, AX
	SHLQ $3, DX
	LEAQ (AX)(AX*2), BX
	LEAQ (DX)(DX*2), R8
	SHRQ $2, CX
	JEQ  t64done

t64loop:
	VMOVUPD (SI), Y0
	VMOVUPD (SI)(AX*1), Y1
	VMOVUPD (SI)(AX*2), Y2
	VMOVUPD (SI)(BX*1), Y3

	VUNPCKLPD Y1, Y0, Y4 // columns 0 and 2 of rows 0–1
	VUNPCKHPD Y1, Y0, Y5 // 1 and 3
	VUNPCKLPD Y3, Y2, Y6 // the same of rows 2–3
	VUNPCKHPD Y3, Y2, Y7

	VPERM2F128 $0x20, Y6, Y4, Y0 // column 0
	VPERM2F128 $0x20, Y7, Y5, Y1 // 1
	VPERM2F128 $0x31, Y6, Y4, Y2 // 2
	VPERM2F128 $0x31, Y7, Y5, Y3 // 3

	VMOVUPD Y0, (DI)
	VMOVUPD Y1, (DI)(DX*1)
	VMOVUPD Y2, (DI)(DX*2)
	VMOVUPD Y3, (DI)(R8*1)

	ADDQ $32, SI
	LEAQ (DI)(DX*4), DI
	DECQ CX
	JNZ  t64loop

t64done:
	VZEROUPPER
	RET

// func transpose4x32(src *float32, lds, n int, dst *float32, ldd int)
// dst[p·ldd + r] = src[r·lds + p] for r < 4, p < n; n is a multiple of 8.
// The packing of 4- and 6-row micro-panels (AVX2's tiles): each 4×8 block
// becomes eight 4-element runs, ldd apart.
TEXT ·transpose4x32(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	MOVQ n+16(FP), CX
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), DX
	SHLQ $2, AX
	SHLQ $2, DX
	LEAQ (AX)(AX*2), BX // 3·lds
	LEAQ (DX)(DX*2), R8 // 3·ldd
	SHRQ $3, CX
	JEQ  t4done

t4loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(AX*1), Y1
	VMOVUPS (SI)(AX*2), Y2
	VMOVUPS (SI)(BX*1), Y3

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11

	VSHUFPS $0x44, Y10, Y8, Y0 // columns 0 and 4
	VSHUFPS $0xEE, Y10, Y8, Y1 // 1 and 5
	VSHUFPS $0x44, Y11, Y9, Y2 // 2 and 6
	VSHUFPS $0xEE, Y11, Y9, Y3 // 3 and 7

	MOVQ          DI, R9
	VMOVUPS       X0, (R9)
	VMOVUPS       X1, (R9)(DX*1)
	VMOVUPS       X2, (R9)(DX*2)
	VMOVUPS       X3, (R9)(R8*1)
	LEAQ          (R9)(DX*4), R9
	VEXTRACTF128  $1, Y0, (R9)
	VEXTRACTF128  $1, Y1, (R9)(DX*1)
	VEXTRACTF128  $1, Y2, (R9)(DX*2)
	VEXTRACTF128  $1, Y3, (R9)(R8*1)

	ADDQ $32, SI
	LEAQ (DI)(DX*8), DI
	DECQ CX
	JNZ  t4loop

t4done:
	VZEROUPPER
	RET

// func transpose2x32(src *float32, lds, n int, dst *float32, ldd int)
// dst[p·ldd + r] = src[r·lds + p] for r < 2, p < n; n is a multiple of 8:
// the last two rows of a 6-row micro-panel.
TEXT ·transpose2x32(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	MOVQ n+16(FP), CX
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), DX
	SHLQ $2, AX
	SHLQ $2, DX
	LEAQ (DX)(DX*2), R8 // 3·ldd
	SHRQ $3, CX
	JEQ  t2done

t2loop:
	VMOVUPS   (SI), Y0
	VMOVUPS   (SI)(AX*1), Y1
	VUNPCKLPS Y1, Y0, Y2 // columns 0, 1 and 4, 5
	VUNPCKHPS Y1, Y0, Y3 // 2, 3 and 6, 7
	VEXTRACTF128 $1, Y2, X4
	VEXTRACTF128 $1, Y3, X5

	MOVQ    DI, R9
	VMOVLPS X2, (R9)
	VMOVHPS X2, (R9)(DX*1)
	VMOVLPS X3, (R9)(DX*2)
	VMOVHPS X3, (R9)(R8*1)
	LEAQ    (R9)(DX*4), R9
	VMOVLPS X4, (R9)
	VMOVHPS X4, (R9)(DX*1)
	VMOVLPS X5, (R9)(DX*2)
	VMOVHPS X5, (R9)(R8*1)

	ADDQ $32, SI
	LEAQ (DI)(DX*8), DI
	DECQ CX
	JNZ  t2loop

t2done:
	VZEROUPPER
	RET

// func transpose2x64(src *float64, lds, n int, dst *float64, ldd int)
// dst[p·ldd + r] = src[r·lds + p] for r < 2, p < n; n is a multiple of 4.
TEXT ·transpose2x64(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	MOVQ n+16(FP), CX
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), DX
	SHLQ $3, AX
	SHLQ $3, DX
	LEAQ (DX)(DX*2), R8 // 3·ldd
	SHRQ $2, CX
	JEQ  t2ddone

t2dloop:
	VMOVUPD   (SI), Y0
	VMOVUPD   (SI)(AX*1), Y1
	VUNPCKLPD Y1, Y0, Y2 // columns 0 and 2
	VUNPCKHPD Y1, Y0, Y3 // 1 and 3

	VMOVUPD      X2, (DI)
	VMOVUPD      X3, (DI)(DX*1)
	VEXTRACTF128 $1, Y2, (DI)(DX*2)
	VEXTRACTF128 $1, Y3, (DI)(R8*1)

	ADDQ $32, SI
	LEAQ (DI)(DX*4), DI
	DECQ CX
	JNZ  t2dloop

t2ddone:
	VZEROUPPER
	RET

// func copyRows(dst, src unsafe.Pointer, rows, width, lds int)
// Copies rows runs of width bytes, src's runs lds bytes apart, to dst one
// after the other; width is a multiple of 8. It replaces a copy() per run
// of 24–128 bytes, where calling memmove cost more than the copy.
TEXT ·copyRows(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ width+24(FP), DX
	MOVQ lds+32(FP), R8
	TESTQ CX, CX
	JEQ  crdone

crrow:
	XORQ AX, AX
	MOVQ DX, BX

cr32:
	CMPQ    BX, $32
	JLT     cr8
	VMOVDQU (SI)(AX*1), Y0
	VMOVDQU Y0, (DI)(AX*1)
	ADDQ    $32, AX
	SUBQ    $32, BX
	JMP     cr32

cr8:
	TESTQ BX, BX
	JEQ   crnext
	MOVQ  (SI)(AX*1), R9
	MOVQ  R9, (DI)(AX*1)
	ADDQ  $8, AX
	SUBQ  $8, BX
	JMP   cr8

crnext:
	ADDQ DX, DI
	ADDQ R8, SI
	DECQ CX
	JNZ  crrow

crdone:
	VZEROUPPER
	RET
