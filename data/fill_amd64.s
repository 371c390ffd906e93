//go:build !purego

#include "textflag.h"

// func u8AffineF32AVX(src *uint8, scale, shift *float64, dst *float32, n int)
// dst[i] = float32(float64(src[i])·scale[i] + shift[i]) on 4 lanes: the
// float64 multiply and add of the Go loop, then the same rounding to
// float32, so the bits are the Go loop's. shift may be nil (no add). n is a
// multiple of 4.
TEXT ·u8AffineF32AVX(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ scale+8(FP), DX
	MOVQ shift+16(FP), R8
	MOVQ dst+24(FP), DI
	MOVQ n+32(FP), CX
	XORQ AX, AX

loop:
	CMPQ      AX, CX
	JGE       done
	VPMOVZXBD (SI)(AX*1), X0  // 4 bytes -> 4 int32
	VCVTDQ2PD X0, Y0          // -> 4 float64, exactly
	VMULPD    (DX)(AX*8), Y0, Y0
	TESTQ     R8, R8
	JZ        round
	VADDPD    (R8)(AX*8), Y0, Y0

round:
	VCVTPD2PSY Y0, X1         // to float32, to nearest (Go never changes MXCSR)
	VMOVUPS    X1, (DI)(AX*4)
	ADDQ       $4, AX
	JMP        loop

done:
	VZEROUPPER
	RET
