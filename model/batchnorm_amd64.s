//go:build !purego

#include "textflag.h"

// Batch norm's elementwise passes on float32 (batchnorm.go), with the
// operations of the Go loops in the same order and no FMA, so the results
// are the same bits.

// func affine32AVX(x, z *float32, n int, a, b float32)
// z[i] = x[i]·a + b, the product rounded to float32; n a multiple of 8.
TEXT ·affine32AVX(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         z+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y1
	VBROADCASTSS b+28(FP), Y2
	XORQ         AX, AX

affLoop:
	CMPQ    AX, CX
	JGE     affDone
	VMULPS  (SI)(AX*4), Y1, Y0
	VADDPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     affLoop

affDone:
	VZEROUPPER
	RET

// func affineReLU32AVX(x, z *float32, n int, a, b float32)
// z[i] = max(x[i]·a + b, 0): affine32AVX's value, then reluForward32AVX2's
// bit operations.
TEXT ·affineReLU32AVX(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         z+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y1
	VBROADCASTSS b+28(FP), Y2
	XORQ         AX, AX

affReLULoop:
	CMPQ    AX, CX
	JGE     affReLUDone
	VMULPS  (SI)(AX*4), Y1, Y0
	VADDPS  Y2, Y0, Y0
	VPSRAD  $31, Y0, Y3 // the sign bit, smeared over the word
	VPANDN  Y0, Y3, Y0  // value &^ smear
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     affReLULoop

affReLUDone:
	VZEROUPPER
	RET

// func inputGrad32AVX(x, dz, dx *float32, n int, t *[5]float64)
// With t = (m, iv, k, mdy, mdyx), in float64 four lanes at a time:
// dx[i] += float32(k·((dz[i] − mdy) − ((x[i] − m)·iv)·mdyx)); n a multiple
// of 4.
TEXT ·inputGrad32AVX(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         dz+8(FP), DX
	MOVQ         dx+16(FP), DI
	MOVQ         n+24(FP), CX
	MOVQ         t+32(FP), R8
	VBROADCASTSD 0(R8), Y10
	VBROADCASTSD 8(R8), Y11
	VBROADCASTSD 16(R8), Y12
	VBROADCASTSD 24(R8), Y13
	VBROADCASTSD 32(R8), Y14
	XORQ         AX, AX

igLoop:
	CMPQ       AX, CX
	JGE        igDone
	VCVTPS2PD  (SI)(AX*4), Y0
	VCVTPS2PD  (DX)(AX*4), Y1
	VSUBPD     Y10, Y0, Y0 // x − m
	VMULPD     Y11, Y0, Y0 // x̂
	VMULPD     Y14, Y0, Y0 // x̂·mdyx
	VSUBPD     Y13, Y1, Y1 // dz − mdy
	VSUBPD     Y0, Y1, Y1
	VMULPD     Y12, Y1, Y1
	VCVTPD2PSY Y1, X1
	VADDPS     (DI)(AX*4), X1, X1
	VMOVUPS    X1, (DI)(AX*4)
	ADDQ       $4, AX
	JMP        igLoop

igDone:
	VZEROUPPER
	RET

// The sums of batchnorm_sums.go over n float32 (a multiple of 8), in
// float64: lanes 0–3 of each 8 in Y0, lanes 4–7 in Y1, folded as
// (s0+s2)+(s1+s3) with s = Y0 + Y1.

// func sum32AVX(x *float32, n int) float64
TEXT ·sum32AVX(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	XORQ   AX, AX

sumLoop:
	CMPQ      AX, CX
	JGE       sumDone
	VCVTPS2PD (SI)(AX*4), Y2
	VCVTPS2PD 16(SI)(AX*4), Y3
	VADDPD    Y2, Y0, Y0
	VADDPD    Y3, Y1, Y1
	ADDQ      $8, AX
	JMP       sumLoop

sumDone:
	VADDPD       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0 // (s0+s2, s1+s3)
	VUNPCKHPD    X0, X0, X1
	VADDSD       X1, X0, X0
	MOVSD        X0, ret+16(FP)
	VZEROUPPER
	RET

// func sqDev32AVX(x *float32, n int, m float64) float64
TEXT ·sqDev32AVX(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD m+16(FP), Y10
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	XORQ         AX, AX

sqLoop:
	CMPQ      AX, CX
	JGE       sqDone
	VCVTPS2PD (SI)(AX*4), Y2
	VCVTPS2PD 16(SI)(AX*4), Y3
	VSUBPD    Y10, Y2, Y2
	VSUBPD    Y10, Y3, Y3
	VMULPD    Y2, Y2, Y2
	VMULPD    Y3, Y3, Y3
	VADDPD    Y2, Y0, Y0
	VADDPD    Y3, Y1, Y1
	ADDQ      $8, AX
	JMP       sqLoop

sqDone:
	VADDPD       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VUNPCKHPD    X0, X0, X1
	VADDSD       X1, X0, X0
	MOVSD        X0, ret+24(FP)
	VZEROUPPER
	RET

// func gradSums32AVX(dy, x *float32, n int, m float64) (sdy, sdyx float64)
// Σdy in Y0/Y1, Σdy·(x − m) in Y4/Y5.
TEXT ·gradSums32AVX(SB), NOSPLIT, $0-48
	MOVQ         dy+0(FP), DX
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD m+24(FP), Y10
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y4, Y4, Y4
	VXORPD       Y5, Y5, Y5
	XORQ         AX, AX

gsLoop:
	CMPQ      AX, CX
	JGE       gsDone
	VCVTPS2PD (DX)(AX*4), Y2
	VCVTPS2PD 16(DX)(AX*4), Y3
	VCVTPS2PD (SI)(AX*4), Y6
	VCVTPS2PD 16(SI)(AX*4), Y7
	VADDPD    Y2, Y0, Y0
	VADDPD    Y3, Y1, Y1
	VSUBPD    Y10, Y6, Y6
	VSUBPD    Y10, Y7, Y7
	VMULPD    Y6, Y2, Y2
	VMULPD    Y7, Y3, Y3
	VADDPD    Y2, Y4, Y4
	VADDPD    Y3, Y5, Y5
	ADDQ      $8, AX
	JMP       gsLoop

gsDone:
	VADDPD       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VUNPCKHPD    X0, X0, X1
	VADDSD       X1, X0, X0
	MOVSD        X0, sdy+32(FP)
	VADDPD       Y5, Y4, Y4
	VEXTRACTF128 $1, Y4, X1
	VADDPD       X1, X4, X4
	VUNPCKHPD    X4, X4, X1
	VADDSD       X1, X4, X4
	MOVSD        X4, sdyx+40(FP)
	VZEROUPPER
	RET

// func affine2AddReLU32AVX(a, x, y *float32, n int, ax, bx, ay, by float32)
// a[i] = max((x[i]·ax + bx) + (y[i]·ay + by), 0): affine32AVX's value of
// each term, added as addReLU32AVX adds (the first term the first
// operand), then reluForward32AVX2's bit operations; n a multiple of 8.
TEXT ·affine2AddReLU32AVX(SB), NOSPLIT, $0-48
	MOVQ         a+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS ax+32(FP), Y4
	VBROADCASTSS bx+36(FP), Y5
	VBROADCASTSS ay+40(FP), Y6
	VBROADCASTSS by+44(FP), Y7
	XORQ         AX, AX

aff2Loop:
	CMPQ    AX, CX
	JGE     aff2Done
	VMULPS  (SI)(AX*4), Y4, Y0
	VADDPS  Y5, Y0, Y0
	VMULPS  (DX)(AX*4), Y6, Y1
	VADDPS  Y7, Y1, Y1
	VADDPS  Y1, Y0, Y0
	VPSRAD  $31, Y0, Y2 // the sign bit, smeared over the word
	VPANDN  Y0, Y2, Y2  // value &^ smear
	VMOVDQU Y2, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     aff2Loop

aff2Done:
	VZEROUPPER
	RET

// func reluMask32AVX(x, d *float32, n int, a, b float32)
// d[i] = 0 (+0) where max(x[i]·a + b, 0) is 0, affineReLU32AVX's value:
// where x[i]·a + b is not a positive integer as bits; n a multiple of 8.
TEXT ·reluMask32AVX(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         d+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y1
	VBROADCASTSS b+28(FP), Y2
	VPXOR        Y3, Y3, Y3
	XORQ         AX, AX

maskLoop:
	CMPQ     AX, CX
	JGE      maskDone
	VMULPS   (SI)(AX*4), Y1, Y0
	VADDPS   Y2, Y0, Y0
	VPCMPGTD Y3, Y0, Y4 // all ones where the bits are > 0
	VPAND    (DI)(AX*4), Y4, Y4
	VMOVDQU  Y4, (DI)(AX*4)
	ADDQ     $8, AX
	JMP      maskLoop

maskDone:
	VZEROUPPER
	RET
