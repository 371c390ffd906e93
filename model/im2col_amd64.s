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
