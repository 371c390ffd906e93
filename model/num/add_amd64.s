//go:build !purego

#include "textflag.h"

// y += x on 256-bit vectors, four per iteration: Axpy's alpha = 1 case,
// the all-reduce's addition (add.go). Addition is elementwise and
// correctly rounded, so any vector width gives the bits of the scalar
// y[i] + x[i] (and of an axpy, since 1·x is exact). n is a multiple of 32
// float32 or 16 float64 elements; the Go caller does the rest.

// func add32AVX(y, x *float32, n int)
TEXT ·add32AVX(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHLQ $2, CX        // bytes
	XORQ AX, AX

add32Loop:
	CMPQ    AX, CX
	JGE     add32Done
	VMOVUPS (DI)(AX*1), Y0
	VMOVUPS 32(DI)(AX*1), Y1
	VMOVUPS 64(DI)(AX*1), Y2
	VMOVUPS 96(DI)(AX*1), Y3
	VADDPS  (SI)(AX*1), Y0, Y0
	VADDPS  32(SI)(AX*1), Y1, Y1
	VADDPS  64(SI)(AX*1), Y2, Y2
	VADDPS  96(SI)(AX*1), Y3, Y3
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	VMOVUPS Y2, 64(DI)(AX*1)
	VMOVUPS Y3, 96(DI)(AX*1)
	ADDQ    $128, AX
	JMP     add32Loop

add32Done:
	VZEROUPPER
	RET

// func add64AVX(y, x *float64, n int)
TEXT ·add64AVX(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHLQ $3, CX        // bytes
	XORQ AX, AX

add64Loop:
	CMPQ    AX, CX
	JGE     add64Done
	VMOVUPD (DI)(AX*1), Y0
	VMOVUPD 32(DI)(AX*1), Y1
	VMOVUPD 64(DI)(AX*1), Y2
	VMOVUPD 96(DI)(AX*1), Y3
	VADDPD  (SI)(AX*1), Y0, Y0
	VADDPD  32(SI)(AX*1), Y1, Y1
	VADDPD  64(SI)(AX*1), Y2, Y2
	VADDPD  96(SI)(AX*1), Y3, Y3
	VMOVUPD Y0, (DI)(AX*1)
	VMOVUPD Y1, 32(DI)(AX*1)
	VMOVUPD Y2, 64(DI)(AX*1)
	VMOVUPD Y3, 96(DI)(AX*1)
	ADDQ    $128, AX
	JMP     add64Loop

add64Done:
	VZEROUPPER
	RET
