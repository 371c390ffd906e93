//go:build !purego

#include "textflag.h"

// AVX loops over 8 float32 lanes. Each performs the same multiplies, adds,
// divides and square roots, in the same order, as the Go loop it replaces
// (no fused multiply-add), so every lane's result is bit-for-bit the Go
// loop's. n is a multiple of 8; the Go caller does the rest.

// func adam32AVX(p, grad, m, v *float32, n int, c *[8]float32)
// c: β₁, 1−β₁, β₂, 1−β₂, stepSize, 1/bc2, ε, decay.
TEXT ·adam32AVX(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), DX
	VBROADCASTSS 0(DX), Y8
	VBROADCASTSS 4(DX), Y9
	VBROADCASTSS 8(DX), Y10
	VBROADCASTSS 12(DX), Y11
	VBROADCASTSS 16(DX), Y12
	VBROADCASTSS 20(DX), Y13
	VBROADCASTSS 24(DX), Y14
	VBROADCASTSS 28(DX), Y15
	XORQ AX, AX

adamLoop:
	CMPQ AX, CX
	JGE  adamDone
	VMOVUPS (SI)(AX*4), Y0     // g
	VMULPS  (R8)(AX*4), Y8, Y1 // β₁·m
	VMULPS  Y0, Y9, Y2         // (1−β₁)·g
	VADDPS  Y2, Y1, Y1         // m'
	VMOVUPS Y1, (R8)(AX*4)
	VMULPS  (R9)(AX*4), Y10, Y3 // β₂·v
	VMULPS  Y0, Y11, Y4         // (1−β₂)·g
	VMULPS  Y0, Y4, Y4          // ·g
	VADDPS  Y4, Y3, Y3          // v'
	VMOVUPS Y3, (R9)(AX*4)
	VSQRTPS Y3, Y5
	VMULPS  Y13, Y5, Y5        // √v'/bc2
	VADDPS  Y14, Y5, Y5        // + ε
	VMULPS  Y1, Y12, Y6        // stepSize·m'
	VDIVPS  Y5, Y6, Y6         // ÷ (√v'/bc2 + ε)
	VMULPS  (DI)(AX*4), Y15, Y7 // p·decay
	VSUBPS  Y6, Y7, Y7
	VMOVUPS Y7, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     adamLoop

adamDone:
	VZEROUPPER
	RET

// func rmsprop32AVX(p, grad, s, b *float32, n int, c *[8]float32)
// c: α, 1−α, ε, μ, η. b is nil without momentum.
TEXT ·rmsprop32AVX(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ s+16(FP), R8
	MOVQ b+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), DX
	VBROADCASTSS 0(DX), Y8
	VBROADCASTSS 4(DX), Y9
	VBROADCASTSS 8(DX), Y10
	VBROADCASTSS 12(DX), Y11
	VBROADCASTSS 16(DX), Y12
	XORQ AX, AX

rmsLoop:
	CMPQ AX, CX
	JGE  rmsDone
	VMOVUPS (SI)(AX*4), Y0     // g
	VMULPS  (R8)(AX*4), Y8, Y1 // α·s
	VMULPS  Y0, Y9, Y2         // (1−α)·g
	VMULPS  Y0, Y2, Y2         // ·g
	VADDPS  Y2, Y1, Y1         // s'
	VMOVUPS Y1, (R8)(AX*4)
	VSQRTPS Y1, Y3
	VADDPS  Y10, Y3, Y3        // √s' + ε
	VDIVPS  Y3, Y0, Y4         // d = g ÷ (√s' + ε)
	TESTQ   R9, R9
	JZ      rmsApply
	VMULPS  (R9)(AX*4), Y11, Y5 // μ·b
	VADDPS  Y5, Y4, Y4          // d + μ·b
	VMOVUPS Y4, (R9)(AX*4)

rmsApply:
	VMULPS  Y4, Y12, Y6        // η·d
	VMOVUPS (DI)(AX*4), Y7
	VSUBPS  Y6, Y7, Y7
	VMOVUPS Y7, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     rmsLoop

rmsDone:
	VZEROUPPER
	RET

// func momentum32AVX(p, grad, v *float32, n int, c *[8]float32, nesterov bool)
// c: μ, η.
TEXT ·momentum32AVX(SB), NOSPLIT, $0-41
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ v+16(FP), R8
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), DX
	MOVBLZX nesterov+40(FP), R9
	VBROADCASTSS 0(DX), Y8
	VBROADCASTSS 4(DX), Y9
	XORQ AX, AX

momLoop:
	CMPQ AX, CX
	JGE  momDone
	VMOVUPS (SI)(AX*4), Y0     // g
	VMULPS  (R8)(AX*4), Y8, Y1 // μ·v
	VADDPS  Y0, Y1, Y1         // v' = μ·v + g
	VMOVUPS Y1, (R8)(AX*4)
	TESTQ   R9, R9
	JZ      momApply
	VMULPS  Y1, Y8, Y2         // μ·v'
	VADDPS  Y2, Y0, Y1         // d = g + μ·v'

momApply:
	VMULPS  Y1, Y9, Y3         // η·d
	VMOVUPS (DI)(AX*4), Y4
	VSUBPS  Y3, Y4, Y4
	VMOVUPS Y4, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     momLoop

momDone:
	VZEROUPPER
	RET
