//go:build !purego

#include "textflag.h"

// The masked copies of im2col_edges.go on 8 float32 lanes: the same bit
// operations (and the same additions) as the Go loops, so the same bits.
// n is a multiple of 8.

// func andCopy32AVX(dst, src, mask *float32, n int)
// dst[i] = src[i] & mask[i].
TEXT ·andCopy32AVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ mask+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX

copyLoop:
	CMPQ    AX, CX
	JGE     copyDone
	VMOVUPS (SI)(AX*4), Y0
	VANDPS  (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     copyLoop

copyDone:
	VZEROUPPER
	RET

// func andAdd32AVX(dst, src, mask *float32, n int)
// dst[i] += src[i] & mask[i].
TEXT ·andAdd32AVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ mask+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX

addLoop:
	CMPQ    AX, CX
	JGE     addDone
	VMOVUPS (SI)(AX*4), Y0
	VANDPS  (DX)(AX*4), Y0, Y0
	VADDPS  (DI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     addLoop

addDone:
	VZEROUPPER
	RET
