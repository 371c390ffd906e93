//go:build !purego

#include "textflag.h"

// func pool2Row32AVX(r0, r1, out, id *float32, n int, bias float32, idx0, ww int, relu bool, sum *float32) int
//
// poolPlane2's inner loop for one output row, 4 outputs at a time on 128-bit
// lanes: window ox is r0[2ox], r0[2ox+1], r1[2ox], r1[2ox+1] (a, b, c, e),
// each plus bias; out[ox] is their maximum (through a ReLU with relu set),
// id[ox] the plane index of the first largest, idx0 + 2ox + (0, 1, ww or
// ww+1), as a float32; *sum gains the activations of the windows. The last
// n mod 4 windows go one at a time through the same instructions on lane 0.
// It stops before the first group (or single window) holding a NaN and
// returns how many outputs it wrote: the Go loop does the rest, choosing
// among NaNs as the scalar code does.
TEXT ·pool2Row32AVX(SB), NOSPLIT, $0-88
	MOVQ r0+0(FP), SI
	MOVQ r1+8(FP), DI
	MOVQ out+16(FP), R8
	MOVQ id+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSS bias+40(FP), X15
	MOVQ ww+56(FP), DX
	MOVBLZX relu+64(FP), R10
	MOVQ sum+72(FP), R11

	// X10 = ww+1, X11 = ww, X12 = 1 (int32 lanes); X13 = idx0 + (0, 2, 4, 6);
	// X14 = 8 (int32), X9 = 0.0, X1 = the sum's four partials.
	MOVQ DX, AX
	INCQ AX
	MOVQ AX, X10
	VPBROADCASTD X10, X10
	MOVQ DX, X11
	VPBROADCASTD X11, X11
	MOVL $1, AX
	MOVQ AX, X12
	VPBROADCASTD X12, X12
	MOVQ idx0+48(FP), AX
	MOVQ AX, X13
	VPBROADCASTD X13, X13
	VPADDD ·poolSteps<>(SB), X13, X13
	MOVL $8, AX
	MOVQ AX, X14
	VPBROADCASTD X14, X14
	VXORPS X9, X9, X9
	VXORPS X1, X1, X1

	XORQ AX, AX // outputs done
	MOVQ CX, R12
	SUBQ $4, CX // the last start of a full group

loop:
	CMPQ AX, CX
	JGT  tail
	VMOVUPS  (SI), X0
	VMOVUPS  16(SI), X5
	VSHUFPS  $0x88, X5, X0, X2 // a: r0[0], r0[2], r0[4], r0[6]
	VSHUFPS  $0xDD, X5, X0, X3 // b: the odd ones
	VMOVUPS  (DI), X0
	VMOVUPS  16(DI), X5
	VSHUFPS  $0x88, X5, X0, X4 // c
	VSHUFPS  $0xDD, X5, X0, X5 // e
	VADDPS   X15, X2, X2
	VADDPS   X15, X3, X3
	VADDPS   X15, X4, X4
	VADDPS   X15, X5, X5

	VCMPPS    $3, X3, X2, X6 // unordered: a or b is a NaN
	VCMPPS    $3, X5, X4, X7
	VORPS     X7, X6, X6
	VMOVMSKPS X6, BX
	TESTL     BX, BX
	JNE       done

	VMAXPS X3, X2, X6 // m = max(max(a, b), max(c, e)); no NaNs here
	VMAXPS X5, X4, X7
	VMAXPS X7, X6, X8

	// j = ww+1, then ww where c = m, 1 where b = m, 0 where a = m: the
	// first largest wins, as the later choices overwrite the earlier.
	VCMPPS    $0, X8, X4, X6
	VBLENDVPS X6, X11, X10, X7
	VCMPPS    $0, X8, X3, X6
	VBLENDVPS X6, X12, X7, X7
	VCMPPS    $0, X8, X2, X6
	VANDNPS   X7, X6, X7
	VPADDD    X13, X7, X7
	VCVTDQ2PS X7, X7
	VPADDD    X14, X13, X13

	TESTQ R10, R10
	JEQ   linear
	VMAXPS X9, X8, X8 // the ReLU: max(m, +0) is +0 for m = ±0
	VMAXPS X9, X2, X2
	VMAXPS X9, X3, X3
	VMAXPS X9, X4, X4
	VMAXPS X9, X5, X5

linear:
	VADDPS X3, X2, X2
	VADDPS X5, X4, X4
	VADDPS X4, X2, X2
	VADDPS X2, X1, X1

	VMOVUPS X8, (R8)
	VMOVUPS X7, (R9)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $16, R8
	ADDQ    $16, R9
	ADDQ    $4, AX
	JMP     loop

tail: // one window at a time, on lane 0; X13's lane 0 is idx0 + 2·AX
	CMPQ   AX, R12
	JGE    done
	VMOVSS (SI), X2
	VMOVSS 4(SI), X3
	VMOVSS (DI), X4
	VMOVSS 4(DI), X5
	VADDPS X15, X2, X2
	VADDPS X15, X3, X3
	VADDPS X15, X4, X4
	VADDPS X15, X5, X5

	VCMPPS    $3, X3, X2, X6
	VCMPPS    $3, X5, X4, X7
	VORPS     X7, X6, X6
	VMOVMSKPS X6, BX
	ANDL      $1, BX
	JNE       done

	VMAXPS    X3, X2, X6
	VMAXPS    X5, X4, X7
	VMAXPS    X7, X6, X8
	VCMPPS    $0, X8, X4, X6
	VBLENDVPS X6, X11, X10, X7
	VCMPPS    $0, X8, X3, X6
	VBLENDVPS X6, X12, X7, X7
	VCMPPS    $0, X8, X2, X6
	VANDNPS   X7, X6, X7
	VPADDD    X13, X7, X7
	VCVTDQ2PS X7, X7
	VPADDD    ·poolTwo<>(SB), X13, X13

	TESTQ  R10, R10
	JEQ    linear1
	VMAXPS X9, X8, X8
	VMAXPS X9, X2, X2
	VMAXPS X9, X3, X3
	VMAXPS X9, X4, X4
	VMAXPS X9, X5, X5

linear1:
	VADDSS X3, X2, X2
	VADDSS X5, X4, X4
	VADDSS X4, X2, X2
	VADDSS X2, X1, X1 // lane 0 only

	VMOVSS X8, (R8)
	VMOVSS X7, (R9)
	ADDQ   $8, SI
	ADDQ   $8, DI
	ADDQ   $4, R8
	ADDQ   $4, R9
	INCQ   AX
	JMP    tail

done:
	VHADDPS X1, X1, X1
	VHADDPS X1, X1, X1
	VADDSS  (R11), X1, X1
	VMOVSS  X1, (R11)
	MOVQ    AX, ret+80(FP)
	RET

// func unpool2Row32AVX(dz, z, id, r0, r1 *float32, n int, idx0, ww int, relu bool, sum *float32) int
//
// The backward of pool2Row32AVX for one output row: window ox's gradient
// dz[ox] goes to the input id[ox] names — r0[2ox], r0[2ox+1], r1[2ox] or
// r1[2ox+1] — and the other three get +0, as a scatter into zeros would
// leave them; with relu set it is dropped (+0) where the output z[ox] is 0.
// *sum gains the gradients passed on (the bias gradient). A −0 gradient
// is stored as +0, as 0 + (−0) is. All n windows are done; it returns n.
TEXT ·unpool2Row32AVX(SB), NOSPLIT, $0-88
	MOVQ dz+0(FP), SI
	MOVQ z+8(FP), DI
	MOVQ id+16(FP), R8
	MOVQ r0+24(FP), R9
	MOVQ r1+32(FP), R13
	MOVQ n+40(FP), CX
	MOVQ ww+56(FP), DX
	MOVBLZX relu+64(FP), R10
	MOVQ sum+72(FP), R11

	// X10 = ww+1, X11 = ww, X12 = 1 (int32); X13 = idx0 + (0, 2, 4, 6);
	// X14 = 8, X9 = 0.0, X15 = 0 (int32), X1 = the sum's partials.
	MOVQ DX, AX
	INCQ AX
	MOVQ AX, X10
	VPBROADCASTD X10, X10
	MOVQ DX, X11
	VPBROADCASTD X11, X11
	MOVL $1, AX
	MOVQ AX, X12
	VPBROADCASTD X12, X12
	MOVQ idx0+48(FP), AX
	MOVQ AX, X13
	VPBROADCASTD X13, X13
	VPADDD ·poolSteps<>(SB), X13, X13
	MOVL $8, AX
	MOVQ AX, X14
	VPBROADCASTD X14, X14
	VXORPS X9, X9, X9
	VPXOR  X15, X15, X15
	VXORPS X1, X1, X1

	XORQ AX, AX
	MOVQ CX, R12
	SUBQ $4, CX

uloop:
	CMPQ AX, CX
	JGT  utail
	VMOVUPS    (SI), X2 // v
	VCVTTPS2DQ (R8), X3 // the inputs' plane indices
	VPSUBD     X13, X3, X3 // j: 0, 1, ww or ww+1
	VPADDD     X14, X13, X13
	TESTQ      R10, R10
	JEQ        uopen
	VCMPPS     $4, (DI), X9, X4 // z ≠ 0: the ReLU passed
	VANDPS     X4, X2, X2

uopen:
	VADDPS   X9, X2, X2 // −0 → +0
	VADDPS   X2, X1, X1
	VPCMPEQD X15, X3, X4 // j = 0
	VPCMPEQD X12, X3, X5
	VPCMPEQD X11, X3, X6
	VPCMPEQD X10, X3, X7
	VANDPS   X2, X4, X4
	VANDPS   X2, X5, X5
	VANDPS   X2, X6, X6
	VANDPS   X2, X7, X7
	VUNPCKLPS X5, X4, X0 // r0: a0 b0 a1 b1
	VUNPCKHPS X5, X4, X4 //     a2 b2 a3 b3
	VMOVUPS   X0, (R9)
	VMOVUPS   X4, 16(R9)
	VUNPCKLPS X7, X6, X0 // r1
	VUNPCKHPS X7, X6, X6
	VMOVUPS   X0, (R13)
	VMOVUPS   X6, 16(R13)
	ADDQ $16, SI
	ADDQ $16, DI
	ADDQ $16, R8
	ADDQ $32, R9
	ADDQ $32, R13
	ADDQ $4, AX
	JMP  uloop

utail: // one window at a time, on lane 0
	CMPQ       AX, R12
	JGE        udone
	VMOVSS     (SI), X2
	VMOVSS     (R8), X3
	VCVTTPS2DQ X3, X3
	VPSUBD     X13, X3, X3
	VPADDD     ·poolTwo<>(SB), X13, X13
	TESTQ      R10, R10
	JEQ        uopen1
	VMOVSS     (DI), X4
	VCMPPS     $4, X9, X4, X4
	VANDPS     X4, X2, X2

uopen1:
	VADDSS   X9, X2, X2
	VADDSS   X2, X1, X1
	VPCMPEQD X15, X3, X4
	VPCMPEQD X12, X3, X5
	VPCMPEQD X11, X3, X6
	VPCMPEQD X10, X3, X7
	VANDPS   X2, X4, X4
	VANDPS   X2, X5, X5
	VANDPS   X2, X6, X6
	VANDPS   X2, X7, X7
	VMOVSS   X4, (R9)
	VMOVSS   X5, 4(R9)
	VMOVSS   X6, (R13)
	VMOVSS   X7, 4(R13)
	ADDQ $4, SI
	ADDQ $4, DI
	ADDQ $4, R8
	ADDQ $8, R9
	ADDQ $8, R13
	INCQ AX
	JMP  utail

udone:
	VHADDPS X1, X1, X1
	VHADDPS X1, X1, X1
	VADDSS  (R11), X1, X1
	VMOVSS  X1, (R11)
	MOVQ    AX, ret+80(FP)
	RET

DATA ·poolSteps<>+0(SB)/4, $0
DATA ·poolSteps<>+4(SB)/4, $2
DATA ·poolSteps<>+8(SB)/4, $4
DATA ·poolSteps<>+12(SB)/4, $6
GLOBL ·poolSteps<>(SB), RODATA|NOPTR, $16

DATA ·poolTwo<>+0(SB)/4, $2
DATA ·poolTwo<>+4(SB)/4, $0
DATA ·poolTwo<>+8(SB)/4, $0
DATA ·poolTwo<>+12(SB)/4, $0
GLOBL ·poolTwo<>(SB), RODATA|NOPTR, $16
