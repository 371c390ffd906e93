//go:build !purego

#include "textflag.h"

// The masked copies of im2col_fast.go (maskedCopy, maskedAdd) on 8
// float32 lanes: the same bit operations (and the same additions) as the
// Go loops, so the same bits. n is a multiple of 8.

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

// func gatherPlane32AVX(out, plane *float32, idx *int32, n int)
// out[i] = plane[idx[i]], or +0 where idx[i] is −1 (a masked-off lane,
// which the gather does not read).
TEXT ·gatherPlane32AVX(SB), NOSPLIT, $0-32
	MOVQ     out+0(FP), DI
	MOVQ     plane+8(FP), SI
	MOVQ     idx+16(FP), DX
	MOVQ     n+24(FP), CX
	XORQ     AX, AX
	VPCMPEQD Y7, Y7, Y7 // −1 in every lane

gatherLoop:
	CMPQ       AX, CX
	JGE        gatherDone
	VMOVDQU    (DX)(AX*4), Y1
	VPCMPGTD   Y7, Y1, Y2 // all ones where idx > −1
	VXORPS     Y0, Y0, Y0
	VGATHERDPS Y2, (SI)(Y1*4), Y0
	VMOVUPS    Y0, (DI)(AX*4)
	ADDQ       $8, AX
	JMP        gatherLoop

gatherDone:
	VZEROUPPER
	RET

// func sum4x4AVX(x *float32, hw, n int, c *[16]float32)
// sum4's four chains over the first n values (a multiple of 4) of each of
// four planes hw apart: c[4q+j] = x_q[j] + x_q[4+j] + … in that order, from
// +0, as sum4's partial sums; planes 0 and 1 in Y0's halves, 2 and 3 in
// Y1's.
TEXT ·sum4x4AVX(SB), NOSPLIT, $0-32
	MOVQ   x+0(FP), SI
	MOVQ   hw+8(FP), BX
	MOVQ   n+16(FP), CX
	MOVQ   c+24(FP), DI
	SHLQ   $2, BX
	LEAQ   (SI)(BX*1), R8  // plane 1
	LEAQ   (SI)(BX*2), R9  // plane 2
	LEAQ   (R8)(BX*2), R10 // plane 3
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   AX, AX

s4Loop:
	CMPQ        AX, CX
	JGE         s4Done
	VMOVUPS     (SI)(AX*4), X2
	VINSERTF128 $1, (R8)(AX*4), Y2, Y2
	VMOVUPS     (R9)(AX*4), X3
	VINSERTF128 $1, (R10)(AX*4), Y3, Y3
	VADDPS      Y2, Y0, Y0
	VADDPS      Y3, Y1, Y1
	ADDQ        $4, AX
	JMP         s4Loop

s4Done:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VZEROUPPER
	RET

DATA ·s2Iota<>+0(SB)/4, $0
DATA ·s2Iota<>+4(SB)/4, $1
DATA ·s2Iota<>+8(SB)/4, $2
DATA ·s2Iota<>+12(SB)/4, $3
DATA ·s2Iota<>+16(SB)/4, $4
DATA ·s2Iota<>+20(SB)/4, $5
DATA ·s2Iota<>+24(SB)/4, $6
DATA ·s2Iota<>+28(SB)/4, $7
GLOBL ·s2Iota<>(SB), RODATA|NOPTR, $32

// func maskedPlanes32AVX(dst, src *float32, off int, mask *float32, n, planes, ldd, lds int)
// For p < planes and i < n: dst[p·ldd + i] = src[p·lds + off + i] where
// mask[i]'s sign bit is set, +0 where it is clear: for a mask of all ones
// or all zeros, the bits of src & mask (andCopy32AVX). A source value is
// read only where its mask is set — VMASKMOVPS loads no masked lane, and
// the scalar tail branches — so src + off may point outside the source
// wherever the mask is clear (inside the memory it may read, as
// samePlanes keeps it: a masked lane does not fault on Intel's
// processors, by their manual, but AMD's leaves it to the implementation;
// see im2col_planes.go).
TEXT ·maskedPlanes32AVX(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ off+16(FP), AX
	LEAQ (SI)(AX*4), SI
	MOVQ mask+24(FP), DX
	MOVQ n+32(FP), CX
	MOVQ planes+40(FP), R8
	MOVQ ldd+48(FP), R9
	MOVQ lds+56(FP), R10
	SHLQ $2, R9
	SHLQ $2, R10
	MOVQ CX, R11
	ANDQ $-8, R11

planeLoop:
	TESTQ R8, R8
	JEQ   planesDone
	XORQ  AX, AX

vecLoop:
	CMPQ       AX, R11
	JGE        tailLoop
	VMOVUPS    (DX)(AX*4), Y1
	VMASKMOVPS (SI)(AX*4), Y1, Y0
	VMOVUPS    Y0, (DI)(AX*4)
	ADDQ       $8, AX
	JMP        vecLoop

tailLoop:
	CMPQ  AX, CX
	JGE   planeNext
	MOVL  (DX)(AX*4), BX
	TESTL BX, BX
	JPL   tailZero
	MOVL  (SI)(AX*4), BX
	MOVL  BX, (DI)(AX*4)
	INCQ  AX
	JMP   tailLoop

tailZero:
	MOVL $0, (DI)(AX*4)
	INCQ AX
	JMP  tailLoop

planeNext:
	ADDQ R9, DI
	ADDQ R10, SI
	DECQ R8
	JMP  planeLoop

planesDone:
	VZEROUPPER
	RET

// func andAddPlanes32AVX(dst, src, mask *float32, n, planes, ldd, lds int)
// For p < planes and i < n: dst[p·ldd + i] += src[p·lds + i] & mask[i],
// the additions of andAdd32AVX (and of the Go loop) for each plane.
TEXT ·andAddPlanes32AVX(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ mask+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ planes+32(FP), R8
	MOVQ ldd+40(FP), R9
	MOVQ lds+48(FP), R10
	SHLQ $2, R9
	SHLQ $2, R10
	MOVQ CX, R11
	ANDQ $-8, R11

addPlaneLoop:
	TESTQ R8, R8
	JEQ   addPlanesDone
	XORQ  AX, AX

addVecLoop:
	CMPQ    AX, R11
	JGE     addTailLoop
	VMOVUPS (SI)(AX*4), Y0
	VANDPS  (DX)(AX*4), Y0, Y0
	VADDPS  (DI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     addVecLoop

addTailLoop:
	CMPQ   AX, CX
	JGE    addPlaneNext
	VMOVSS (SI)(AX*4), X0
	VMOVSS (DX)(AX*4), X1
	VANDPS X1, X0, X0
	VMOVSS (DI)(AX*4), X1
	VADDSS X0, X1, X1
	VMOVSS X1, (DI)(AX*4)
	INCQ   AX
	JMP    addTailLoop

addPlaneNext:
	ADDQ R9, DI
	ADDQ R10, SI
	DECQ R8
	JMP  addPlaneLoop

addPlanesDone:
	VZEROUPPER
	RET

// func stride2Planes32AVX(dst, src *float32, planes, rows, wo, lo, cnt, lds, ldp, lsp int)
// For each of planes planes (ldp apart in dst, lsp in src) and each of its
// rows output rows (wo apart in dst; their input rows lds apart in src):
// dst[lo+i] = src[2i] for i < cnt, zeros in [0, lo) and [lo+cnt, wo). The
// span is stored 8 at a time, so up to 7 values past it are written before
// the zeros after it; the caller lets that run into the next row, written
// after it (past a plane's last row, the next plane's or what the caller
// writes later). The loads read src[0, 16·⌈cnt/8⌉) of each row. Only
// shuffles move the values: the same bits.
TEXT ·stride2Planes32AVX(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), CX
	MOVQ src+8(FP), R13
	MOVQ wo+32(FP), R8
	MOVQ lo+40(FP), R9
	MOVQ cnt+48(FP), R10
	MOVQ lds+56(FP), R11
	LEAQ (R9)(R10*1), R12 // hi = lo + cnt

s2pPlane:
	MOVQ planes+16(FP), AX
	TESTQ AX, AX
	JZ    s2pDone
	DECQ  AX
	MOVQ  AX, planes+16(FP)
	MOVQ  CX, DI
	MOVQ  R13, SI
	MOVQ  rows+24(FP), BX

s2pRow:
	TESTQ BX, BX
	JZ    s2pNext
	XORQ  AX, AX

s2pLo:
	CMPQ AX, R9
	JGE  s2pSpan
	MOVL $0, (DI)(AX*4)
	INCQ AX
	JMP  s2pLo

s2pSpan:
	LEAQ (DI)(R9*4), DX
	XORQ AX, AX

s2pVec:
	CMPQ    AX, R10
	JGE     s2pHi
	VMOVUPS (SI)(AX*8), Y0    // src[2i .. 2i+8)
	VMOVUPS 32(SI)(AX*8), Y1  // src[2i+8 .. 2i+16)
	VSHUFPS $0x88, Y1, Y0, Y2 // per 128-bit lane: even elements of Y0, then of Y1
	VPERMPD $0xD8, Y2, Y2     // the lanes' pairs in order: src[2i], src[2i+2], …, src[2i+14]
	VMOVUPS Y2, (DX)(AX*4)
	ADDQ    $8, AX
	JMP     s2pVec

s2pHi:
	MOVQ R12, AX

s2pHiLoop:
	CMPQ AX, R8
	JGE  s2pRowNext
	MOVL $0, (DI)(AX*4)
	INCQ AX
	JMP  s2pHiLoop

s2pRowNext:
	LEAQ (DI)(R8*4), DI
	LEAQ (SI)(R11*4), SI
	DECQ BX
	JMP  s2pRow

s2pNext:
	MOVQ ldp+64(FP), AX
	LEAQ (CX)(AX*4), CX
	MOVQ lsp+72(FP), AX
	LEAQ (R13)(AX*4), R13
	JMP  s2pPlane

s2pDone:
	VZEROUPPER
	RET

// func stride2AddPlanes32AVX(dst, src *float32, planes, rows, wo, cnt, ldd, ldp, lsp int)
// For each of planes planes (ldp apart in dst, lsp in src) and each of its
// rows rows (src rows wo apart, dst rows ldd apart): dst[2i] += src[i] for
// i < cnt. 8 values at a time: the lanes past cnt are zeroed, the 8 spread
// over 16 pixels with +0 between them, and the 16 added in, so the pixels
// between and up to 15 past the span get +0 (the caller keeps that inside
// dx: past a plane's last row, in the next plane). The loads read
// src[0, 8·⌈cnt/8⌉) of each row.
TEXT ·stride2AddPlanes32AVX(SB), NOSPLIT, $0-72
	MOVQ    dst+0(FP), CX
	MOVQ    src+8(FP), R13
	MOVQ    wo+32(FP), R8
	MOVQ    cnt+40(FP), R10
	MOVQ    ldd+48(FP), R11
	VXORPS  Y7, Y7, Y7
	VMOVDQU ·s2Iota<>(SB), Y6 // 0, 1, …, 7

sa2pPlane:
	MOVQ  planes+16(FP), AX
	TESTQ AX, AX
	JZ    sa2pDone
	DECQ  AX
	MOVQ  AX, planes+16(FP)
	MOVQ  CX, DI
	MOVQ  R13, SI
	MOVQ  rows+24(FP), BX

sa2pRow:
	TESTQ BX, BX
	JZ    sa2pNext
	XORQ  AX, AX

sa2pVec:
	CMPQ         AX, R10
	JGE          sa2pRowNext
	MOVQ         R10, DX
	SUBQ         AX, DX // values left in the span
	MOVQ         DX, X5
	VPBROADCASTD X5, Y5
	VPCMPGTD     Y6, Y5, Y5 // lanes j < left
	VANDPS       (SI)(AX*4), Y5, Y0
	VUNPCKLPS    Y7, Y0, Y1        // v0 0 v1 0 | v4 0 v5 0
	VUNPCKHPS    Y7, Y0, Y2        // v2 0 v3 0 | v6 0 v7 0
	VPERM2F128   $0x20, Y2, Y1, Y3 // v0 0 v1 0 v2 0 v3 0
	VPERM2F128   $0x31, Y2, Y1, Y4 // v4 0 … v7 0
	VADDPS       (DI)(AX*8), Y3, Y3
	VADDPS       32(DI)(AX*8), Y4, Y4
	VMOVUPS      Y3, (DI)(AX*8)
	VMOVUPS      Y4, 32(DI)(AX*8)
	ADDQ         $8, AX
	JMP          sa2pVec

sa2pRowNext:
	LEAQ (SI)(R8*4), SI
	LEAQ (DI)(R11*4), DI
	DECQ BX
	JMP  sa2pRow

sa2pNext:
	MOVQ ldp+56(FP), AX
	LEAQ (CX)(AX*4), CX
	MOVQ lsp+64(FP), AX
	LEAQ (R13)(AX*4), R13
	JMP  sa2pPlane

sa2pDone:
	VZEROUPPER
	RET
