//go:build !purego

#include "textflag.h"

// The ReLU loops of relu.go on 8 float32 lanes, with the same bit
// operations, so the results are the same bits. n is a multiple of 8.

// func reluForward32AVX2(z, a *float32, n int)
// a = z with every word whose sign bit is set replaced by +0.
TEXT ·reluForward32AVX2(SB), NOSPLIT, $0-24
	MOVQ z+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ n+16(FP), CX
	XORQ AX, AX

fwdLoop:
	CMPQ    AX, CX
	JGE     fwdDone
	VMOVDQU (SI)(AX*4), Y0
	VPSRAD  $31, Y0, Y1 // the sign bit, smeared over the word
	VPANDN  Y0, Y1, Y1  // z &^ smear
	VMOVDQU Y1, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     fwdLoop

fwdDone:
	VZEROUPPER
	RET

// func reluBackward32AVX2(a, d *float32, n int)
// d = 0 wherever the bits of a are all zero.
TEXT ·reluBackward32AVX2(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), SI
	MOVQ d+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y7, Y7, Y7
	XORQ  AX, AX

bwdLoop:
	CMPQ     AX, CX
	JGE      bwdDone
	VPCMPEQD (SI)(AX*4), Y7, Y1 // all ones where a's bits are zero
	VPANDN   (DI)(AX*4), Y1, Y2 // d &^ that
	VMOVDQU  Y2, (DI)(AX*4)
	ADDQ     $8, AX
	JMP      bwdLoop

bwdDone:
	VZEROUPPER
	RET

// func addReLU32AVX(a, x, y *float32, n int)
// a = max(x + y, 0): a residual block's sum (x, then y added into it, as
// add32AVX adds) and the ReLU of reluForward32AVX2.
TEXT ·addReLU32AVX(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX

addReLULoop:
	CMPQ    AX, CX
	JGE     addReLUDone
	VMOVUPS (SI)(AX*4), Y0
	VADDPS  (DX)(AX*4), Y0, Y0
	VPSRAD  $31, Y0, Y1
	VPANDN  Y0, Y1, Y1
	VMOVDQU Y1, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     addReLULoop

addReLUDone:
	VZEROUPPER
	RET
