//go:build !purego

#include "textflag.h"

// POOL_CONSTS sets, from ww in DX and pw in R12, the constants of both
// kernels: X10 = ww+1, X11 = ww, X12 = 1 (int32 lanes), X9 = 0.0,
// X1 = 0 (the sum's four partials), CX = pw − 4 (the last start of a full
// group in a row) and R13 = 0 (the row oy). It clobbers AX.
#define POOL_CONSTS \
	MOVQ         DX, AX          \
	INCQ         AX              \
	MOVQ         AX, X10         \
	VPBROADCASTD X10, X10        \
	MOVQ         DX, X11         \
	VPBROADCASTD X11, X11        \
	MOVL         $1, AX          \
	MOVQ         AX, X12         \
	VPBROADCASTD X12, X12        \
	VXORPS       X9, X9, X9      \
	VXORPS       X1, X1, X1      \
	MOVQ         R12, CX         \
	SUBQ         $4, CX          \
	XORQ         R13, R13

// ROW_BASE sets AX = base = 2·oy·ww for the row oy in R13 and X13 = base
// + (0, 2, 4, 6), the first inputs' plane indices of a group of windows.
#define ROW_BASE \
	MOVQ         R13, AX                    \
	IMULQ        DX, AX                     \
	SHLQ         $1, AX                     \
	MOVQ         AX, X13                    \
	VPBROADCASTD X13, X13                   \
	VPADDD       ·poolSteps<>(SB), X13, X13

// The 2×2, stride-2 max pooling of the fused stages (convpool.go,
// normpool.go) and of the pooling layer on its own, on float32, 4 windows at a time on 128-bit lanes, a plane per call. Window
// (oy, ox) of a plane with rows ww wide reads a, b = r0[2ox], r0[2ox+1] and
// c, e = r1[2ox], r1[2ox+1], where r0 is row 2oy and r1 row 2oy+1; its
// inputs' plane indices are base + 2ox + (0, 1, ww, ww+1), base = 2·oy·ww.
// The last pw mod 4 windows of a row go one at a time through the same
// instructions on lane 0.

// func pool2Plane32AVX(plane, out, id *float32, ph, pw int, scale, bias float32, ww int, relu bool, sum *float32) int
//
// out[oy·pw+ox] is the maximum of the window's inputs v·scale + bias (the
// product rounded before the sum; through a ReLU with relu set), id[oy·pw+ox] the plane index of the first largest
// as a float32; *sum gains the activations of every window's inputs. It
// stops before the first group (or single window) holding a NaN and
// returns how many outputs it wrote, ph·pw when it met none: the Go loop
// does the rest, choosing among NaNs as the scalar code does.
TEXT ·pool2Plane32AVX(SB), NOSPLIT, $0-80
	MOVQ         out+8(FP), R8
	MOVQ         id+16(FP), R9
	MOVQ         pw+32(FP), R12
	VBROADCASTSS scale+40(FP), X14
	VBROADCASTSS bias+44(FP), X15
	MOVQ         ww+48(FP), DX
	MOVBLZX      relu+56(FP), R10
	MOVQ         sum+64(FP), R11

	POOL_CONSTS

row:
	CMPQ         R13, ph+24(FP)
	JGE          finish
	ROW_BASE
	MOVQ         plane+0(FP), SI
	LEAQ         (SI)(AX*4), SI // r0
	LEAQ         (SI)(DX*4), DI // r1
	XORQ         AX, AX         // ox

loop:
	CMPQ    AX, CX
	JGT     tail
	VMOVUPS (SI), X0
	VMOVUPS 16(SI), X5
	VSHUFPS $0x88, X5, X0, X2 // a: r0[0], r0[2], r0[4], r0[6]
	VSHUFPS $0xDD, X5, X0, X3 // b: the odd ones
	VMOVUPS (DI), X0
	VMOVUPS 16(DI), X5
	VSHUFPS $0x88, X5, X0, X4 // c
	VSHUFPS $0xDD, X5, X0, X5 // e
	VMULPS  X14, X2, X2
	VMULPS  X14, X3, X3
	VMULPS  X14, X4, X4
	VMULPS  X14, X5, X5
	VADDPS  X15, X2, X2
	VADDPS  X15, X3, X3
	VADDPS  X15, X4, X4
	VADDPS  X15, X5, X5

	VCMPPS    $3, X3, X2, X6 // unordered: a or b is a NaN
	VCMPPS    $3, X5, X4, X7
	VORPS     X7, X6, X6
	VMOVMSKPS X6, BX
	TESTL     BX, BX
	JNE       bail

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
	VPADDD    ·poolEight<>(SB), X13, X13

	TESTQ  R10, R10
	JEQ    linear
	VMAXPS X9, X8, X8 // the ReLU: max(m, +0) is +0 for m = ±0
	VMAXPS X9, X2, X2
	VMAXPS X9, X3, X3
	VMAXPS X9, X4, X4
	VMAXPS X9, X5, X5

linear:
	VADDPS  X3, X2, X2
	VADDPS  X5, X4, X4
	VADDPS  X4, X2, X2
	VADDPS  X2, X1, X1
	VMOVUPS X8, (R8)
	VMOVUPS X7, (R9)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $16, R8
	ADDQ    $16, R9
	ADDQ    $4, AX
	JMP     loop

tail: // one window at a time, on lane 0; X13's lane 0 is base + 2·ox
	CMPQ   AX, R12
	JGE    rowdone
	VMOVSS (SI), X2
	VMOVSS 4(SI), X3
	VMOVSS (DI), X4
	VMOVSS 4(DI), X5
	VMULPS X14, X2, X2
	VMULPS X14, X3, X3
	VMULPS X14, X4, X4
	VMULPS X14, X5, X5
	VADDPS X15, X2, X2
	VADDPS X15, X3, X3
	VADDPS X15, X4, X4
	VADDPS X15, X5, X5

	VCMPPS    $3, X3, X2, X6
	VCMPPS    $3, X5, X4, X7
	VORPS     X7, X6, X6
	VMOVMSKPS X6, BX
	ANDL      $1, BX
	JNE       bail

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

rowdone:
	INCQ R13
	JMP  row

bail: // stopped at window ox = AX of row R13
	MOVQ  R13, BX
	IMULQ R12, BX
	ADDQ  BX, AX
	JMP   done

finish:
	MOVQ  ph+24(FP), AX
	IMULQ R12, AX

done:
	VHADDPS X1, X1, X1
	VHADDPS X1, X1, X1
	VADDSS  (R11), X1, X1
	VMOVSS  X1, (R11)
	MOVQ    AX, ret+72(FP)
	RET

// func unpool2Plane32AVX(dz, z, id, d *float32, ph, pw, ww int, relu bool, sum *float32)
//
// The backward of pool2Plane32AVX: window q's gradient dz[q] goes to the
// input of plane d that id[q] names, and the window's other three inputs
// get +0, as a scatter into zeros would leave them; with relu set it is
// dropped (+0) where the output z[q] is 0. *sum gains the gradients passed
// on (the bias gradient). A −0 gradient is stored as +0, as 0 + (−0) is.
// The plane's rows past 2·ph and columns past 2·pw are not written.
TEXT ·unpool2Plane32AVX(SB), NOSPLIT, $0-72
	MOVQ    dz+0(FP), SI
	MOVQ    z+8(FP), DI
	MOVQ    id+16(FP), R8
	MOVQ    pw+40(FP), R12
	MOVQ    ww+48(FP), DX
	MOVBLZX relu+56(FP), R10
	MOVQ    sum+64(FP), R11

	POOL_CONSTS
	VPXOR X15, X15, X15 // 0 (int32)

urow:
	CMPQ         R13, ph+32(FP)
	JGE          udone
	ROW_BASE
	MOVQ         d+24(FP), R9
	LEAQ         (R9)(AX*4), R9 // r0
	LEAQ         (R9)(DX*4), BX // r1
	XORQ         AX, AX

uloop:
	CMPQ       AX, CX
	JGT        utail
	VMOVUPS    (SI), X2     // v
	VCVTTPS2DQ (R8), X3     // the inputs' plane indices
	VPSUBD     X13, X3, X3  // j: 0, 1, ww or ww+1
	VPADDD     ·poolEight<>(SB), X13, X13
	TESTQ      R10, R10
	JEQ        uopen
	VCMPPS     $4, (DI), X9, X4 // z ≠ 0: the ReLU passed
	VANDPS     X4, X2, X2

uopen:
	VADDPS    X9, X2, X2 // −0 → +0
	VADDPS    X2, X1, X1
	VPCMPEQD  X15, X3, X4
	VPCMPEQD  X12, X3, X5
	VPCMPEQD  X11, X3, X6
	VPCMPEQD  X10, X3, X7
	VANDPS    X2, X4, X4
	VANDPS    X2, X5, X5
	VANDPS    X2, X6, X6
	VANDPS    X2, X7, X7
	VUNPCKLPS X5, X4, X0 // r0: a0 b0 a1 b1
	VUNPCKHPS X5, X4, X4 //     a2 b2 a3 b3
	VMOVUPS   X0, (R9)
	VMOVUPS   X4, 16(R9)
	VUNPCKLPS X7, X6, X0 // r1
	VUNPCKHPS X7, X6, X6
	VMOVUPS   X0, (BX)
	VMOVUPS   X6, 16(BX)
	ADDQ      $16, SI
	ADDQ      $16, DI
	ADDQ      $16, R8
	ADDQ      $32, R9
	ADDQ      $32, BX
	ADDQ      $4, AX
	JMP       uloop

utail: // one window at a time, on lane 0
	CMPQ       AX, R12
	JGE        urowdone
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
	VMOVSS   X6, (BX)
	VMOVSS   X7, 4(BX)
	ADDQ     $4, SI
	ADDQ     $4, DI
	ADDQ     $4, R8
	ADDQ     $8, R9
	ADDQ     $8, BX
	INCQ     AX
	JMP      utail

urowdone:
	INCQ R13
	JMP  urow

udone:
	VHADDPS X1, X1, X1
	VHADDPS X1, X1, X1
	VADDSS  (R11), X1, X1
	VMOVSS  X1, (R11)
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

DATA ·poolEight<>+0(SB)/4, $8
DATA ·poolEight<>+4(SB)/4, $8
DATA ·poolEight<>+8(SB)/4, $8
DATA ·poolEight<>+12(SB)/4, $8
GLOBL ·poolEight<>(SB), RODATA|NOPTR, $16

// func add32AVX(dst, src *float32, n int)
// dst[i] += src[i] for i < n, n a multiple of 8: col2im's sums.
TEXT ·add32AVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX

addLoop:
	CMPQ    AX, CX
	JGE     addDone
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     addLoop

addDone:
	VZEROUPPER
	RET
