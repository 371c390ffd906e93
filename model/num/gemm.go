package num

import (
	"sync"
	"unsafe"
)

// ptrain's own GEMM, blocked the way BLIS and OpenBLAS block it:
//
//	for jc over n in steps of nc:          B block kc×nc packed, in L2
//	  for pc over k in steps of kc:
//	    pack op(b)[pc:pc+kc, jc:jc+nc]
//	    for ic over m in steps of mc:        A block mc×kc packed
//	      pack op(a)[ic:ic+mc, pc:pc+kc]
//	      for ir over the block's rows, MR at a time:  A micro-panel, in L1
//	        for jr over the block's columns, NR at a time:
//	          micro-kernel: the MR×NR tile of c from kc steps
//
// Packing copies each operand once per block into the order the kernel
// reads it — A as kc groups of MR elements (one column of the micro-panel
// each), B as kc rows of NR — so every transpose and leading dimension
// costs the same in the kernel, and the kernel streams contiguous memory.
// The last micro-panels of a block are padded with zeros, so the kernel
// always computes a whole tile; where the tile overhangs c it reads and
// writes only the inside, with masked loads and stores.
//
// Some products skip a packing: up to isa.directM rows read an
// untransposed B in place instead of packing it; below k = directAK the
// AVX-512 tiles read an untransposed A in place (kernel32.fa); and a
// transposed A of exactly one tile's rows is already its micro-panel.
// And a·bᵀ with fewer than 32 columns and k ≥ 128 leaves this path for dot
// products, gemmBlockDot's blocks or, for fewer columns than a block from
// k = 256, gemmDot's (abtPath in gemm_dot.go; chosen in blas.go). A
// convolution's weight gradient with few output channels takes
// gemmBlockDot's too (MatMulABtFixedRows).
//
// The first k block applies the caller's beta (beta = 0 writes c without
// reading it); later ones add (beta = 1). The summation order depends only
// on (m, n, k) and the instruction set, never on the data's addresses or on
// other goroutines, so results repeat bit for bit.

// kernel32 and kernel64 are one micro-kernel: its tile and the function.
// fa, where not nil, is the same tile reading mr rows of an untransposed a
// in place, lda apart, instead of a packed micro-panel (see gemmPacked).
type kernel32 struct {
	mr, nr int
	fn     func(kc int, a, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int)
	fa     func(kc int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int)
}

type kernel64 struct {
	mr, nr int
	fn     func(kc int, a, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int)
	fa     func(kc int, a *float64, lda int, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int)
}

// gemmISA is the micro-kernels of one instruction set: the GEMM tiles, the
// 3×3 dot-product blocks of gemmDot (float32 lanes per vector: lanes32) and
// the larger ones of gemmBlockDot.
type gemmISA struct {
	name    string
	s       kernel32
	d       kernel64
	s2      kernel32 // a second tile, chosen where it pads less (see tiles); fn nil if none
	d2      kernel64
	s3      kernel32 // a third tile, chosen as the second (and only with it); fn nil if none
	d3      kernel64
	s2Below int // the second and third tiles only for products of fewer rows than this; 0: any
	directM int // up to this many rows of c, an untransposed B is read in place, not packed (see gemmPacked)
	sdot    func(n int, rows *[6]*float32, out *float32)
	ddot    func(n int, rows *[6]*float64, out *float64)
	lanes32 int
	bdot    blockDot  // the register-blocked dot products of gemmBlockDot
	bdotC   blockDotC // narrower blocks of them that store into c; mr 0 if none
}

// isa is the instruction set GEMM runs on; nil means no micro-kernel for
// this CPU or build (purego, other architectures): GEMM runs gonum's. It is
// chosen once at start-up; tests switch it with setISA.
var isa = bestISA()

// setISA makes GEMM run on k and returns the previous choice. Not safe
// while a GEMM runs; for tests and benchmarks.
func setISA(k *gemmISA) *gemmISA {
	old := isa
	isa = k
	return old
}

// Block sizes in elements. kc·MR fits the A micro-panel in L1 (8 KiB in
// float32, 16 KiB in float64 at MR = 8); kc·nc, the packed B block, is
// 512 KiB: half of a Zen 4 core's L2. mc bounds the packed A block.
const (
	directAK = 32 // below this k an untransposed a is read in place where the tile can (kernel32.fa)
	gemmKC   = 256
	gemmMC   = 192
	gemmNC32 = 512
	gemmNC64 = 256
)

// gemmBuf is one caller's packing space: A block and B block, in bytes
// enough for either element type.
type gemmBuf struct {
	a, b []float64
	ptrs [6]unsafe.Pointer // gemmDot's row pointers
}

// gemmBufs is a free list of packing buffers: a GEMM takes one for the
// call and gives it back, so concurrent callers (the trainer's workers)
// each pack into their own, and after the first calls nothing allocates.
// A sync.Pool would drop them at every GC.
var gemmBufs struct {
	sync.Mutex
	free []*gemmBuf
}

func getGemmBuf() *gemmBuf {
	gemmBufs.Lock()
	defer gemmBufs.Unlock()
	if n := len(gemmBufs.free); n > 0 {
		b := gemmBufs.free[n-1]
		gemmBufs.free = gemmBufs.free[:n-1]
		return b
	}
	// Room for float32's or float64's blocks, whichever is larger (counted
	// in float64 words): A is mc×kc, B kc×nc.
	return &gemmBuf{
		a: Alloc[float64](gemmMC * gemmKC),
		b: Alloc[float64](gemmKC * max(gemmNC32/2, gemmNC64)),
	}
}

func putGemmBuf(b *gemmBuf) {
	gemmBufs.Lock()
	gemmBufs.free = append(gemmBufs.free, b)
	gemmBufs.Unlock()
}

// asT reinterprets float64 storage as a []T of as many bytes.
func asT[T Float](s []float64) []T {
	var z T
	n := len(s) * 8 / int(unsafe.Sizeof(z))
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), n)
}

// gemmPacked computes c = alpha·op(a)·op(b) + beta·c on the micro-kernels
// of isa, which must not be nil. m, n, k > 0 and alpha != 0.
func gemmPacked[T Float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ks := isa
	sk, dk := ks.tiles(m, n)
	mr, nr, nc := dk.mr, dk.nr, gemmNC64
	hasFA := dk.fa != nil
	if Is32[T]() {
		mr, nr, nc = sk.mr, sk.nr, gemmNC32
		hasFA = sk.fa != nil
	}
	// With k < directAK, packing a costs about as much as the tiles that
	// read it (the classifier's input gradient dZ·W, 64×128×10: a fifth of
	// its time, mostly copying the 2 columns past the transposes' 8): the
	// kernel then reads whole row panels of an untransposed a where they
	// lie, and only a last, shorter panel is packed.
	directA := !ta && k < directAK && hasFA
	nc -= nc % nr               // B blocks of whole tiles
	mcMax := gemmMC - gemmMC%mr // A blocks of whole tiles: packA pads the last to mr rows, in a buffer of gemmMC·gemmKC
	// k is cut into equal blocks of at most gemmKC: 288 runs as 2×144, not
	// 256 and a pass over c for the last 32.
	kb := (k + gemmKC - 1) / gemmKC
	kb = (k + kb - 1) / kb
	buf := getGemmBuf()
	pa, pb := asT[T](buf.a), asT[T](buf.b)
	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kb {
			kc := min(kb, k-pc)
			// With few rows, packing B would cost about as much as using
			// it: the kernel then reads whole panels of an untransposed B
			// where they lie, and only a last, narrower panel is packed.
			direct, full := !tb && m <= ks.directM, ncb
			if direct {
				full = ncb - ncb%nr
				packB(tb, b, ldb, pc, kc, jc+full, ncb-full, nr, pb)
			} else {
				packB(tb, b, ldb, pc, kc, jc, ncb, nr, pb)
			}
			load, bt := 1, T(1)
			if pc == 0 {
				bt = beta
				if beta == 0 {
					load = 0
				}
			}
			for ic := 0; ic < m; ic += mcMax {
				mc := min(mcMax, m-ic)
				// A transposed a of exactly one tile's rows is already
				// packed: its row p is column p of the micro-panel.
				inPlace := ta && m == mr && lda == mr
				if !inPlace && !directA {
					packA(ta, a, lda, ic, mc, pc, kc, mr, pa)
				}
				for ir := 0; ir < mc; ir += mr {
					mi := min(mr, mc-ir)
					ap := &pa[ir*kc]
					switch {
					case inPlace:
						ap = &a[pc*lda]
					case directA && mi < mr:
						packA(ta, a, lda, ic+ir, mi, pc, kc, mr, pa)
						ap = &pa[0]
					}
					for jr := 0; jr < ncb; jr += nr {
						nj := min(nr, ncb-jr)
						bp, bs := &pb[jr*kc], nr
						switch {
						case direct && jr < full:
							bp, bs = &b[pc*ldb+jc+jr], ldb
						case direct:
							bp = &pb[0]
						}
						// The kernel touches only the mi×nj inside of the tile.
						if directA && mi == mr {
							microKernelA(sk.fa, dk.fa, kc, &a[(ic+ir)*lda+pc], lda, bp, &c[(ic+ir)*ldc+jc+jr], ldc, alpha, bt, load, mi, nj, bs)
							continue
						}
						microKernel(sk.fn, dk.fn, kc, ap, bp, &c[(ic+ir)*ldc+jc+jr], ldc, alpha, bt, load, mi, nj, bs)
					}
				}
			}
		}
	}
	putGemmBuf(buf)
}

// tiles returns the kernels that compute an m×n product with the fewest
// padded elements: ceil(m/mr)·mr × ceil(n/nr)·nr, the first tile on a tie.
// On AVX2, 16 or 32 rows fill 4-row tiles where 6-row ones compute 18 or 36
// (11% wasted), and 64 or 128 columns fill the 16-wide ones; on AVX-512, 6
// rows fill a 6-row tile where 8-row ones compute 8, and 10 rows (a
// 10-class classifier's weight gradient) a 10-row tile where 6-row ones
// compute 12 and 8-row ones 16. Every tile
// sums each element over k in the same order, so the choice never changes
// a bit of c: a shard of a batch gets the whole batch's rows' bits.
//
// AVX-512's 6-row and 10-row tiles are for products of fewer than 32 rows
// only (s2Below). The 6-row one, with 12 accumulators instead of 16,
// forced on the 86 products of 32 or more rows in BenchmarkGemmShapes,
// ran up to 21% slower than the 8-row one, 6% at the median (Zen 5),
// which a few padded rows in a hundred do not make up for. Picked on padding alone, it took worker 0's
// share of the MLP's split first-layer weight gradient (150 rows of 784:
// 150 computed against 152), 26% of a 2-worker step's CPU time at batch 64.
func (ks *gemmISA) tiles(m, n int) (kernel32, kernel64) {
	padded := func(mr, nr int) int { return (m + mr - 1) / mr * mr * ((n + nr - 1) / nr * nr) }
	sk, dk := ks.s, ks.d
	if ks.s2Below > 0 && m >= ks.s2Below {
		return sk, dk
	}
	if ks.s2.fn != nil && padded(ks.s2.mr, ks.s2.nr) < padded(sk.mr, sk.nr) {
		sk = ks.s2
	}
	if ks.d2.fn != nil && padded(ks.d2.mr, ks.d2.nr) < padded(dk.mr, dk.nr) {
		dk = ks.d2
	}
	if ks.s3.fn != nil && padded(ks.s3.mr, ks.s3.nr) < padded(sk.mr, sk.nr) {
		sk = ks.s3
	}
	if ks.d3.fn != nil && padded(ks.d3.mr, ks.d3.nr) < padded(dk.mr, dk.nr) {
		dk = ks.d3
	}
	return sk, dk
}

// microKernel calls sk or dk, the kernel for T. It takes the functions,
// not the kernel32 and kernel64 around them: copying those per call cost
// 6% of AVX2's ResNet-8 stem forward (16×2352×9, a call per 9 steps).
func microKernel[T Float](sk func(kc int, a, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int),
	dk func(kc int, a, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int),
	kc int, a, b, c *T, ldc int, alpha, beta T, load, rows, cols, ldb int) {
	if Is32[T]() {
		sk(kc, (*float32)(unsafe.Pointer(a)), (*float32)(unsafe.Pointer(b)), (*float32)(unsafe.Pointer(c)),
			ldc, float32(alpha), float32(beta), load, rows, cols, ldb)
		return
	}
	dk(kc, (*float64)(unsafe.Pointer(a)), (*float64)(unsafe.Pointer(b)), (*float64)(unsafe.Pointer(c)),
		ldc, float64(alpha), float64(beta), load, rows, cols, ldb)
}

// microKernelA calls sk or dk, a kernel that reads a in place (fa), the
// one for T.
func microKernelA[T Float](sk func(kc int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32, load, rows, cols, ldb int),
	dk func(kc int, a *float64, lda int, b, c *float64, ldc int, alpha, beta float64, load, rows, cols, ldb int),
	kc int, a *T, lda int, b, c *T, ldc int, alpha, beta T, load, rows, cols, ldb int) {
	if Is32[T]() {
		sk(kc, (*float32)(unsafe.Pointer(a)), lda, (*float32)(unsafe.Pointer(b)), (*float32)(unsafe.Pointer(c)),
			ldc, float32(alpha), float32(beta), load, rows, cols, ldb)
		return
	}
	dk(kc, (*float64)(unsafe.Pointer(a)), lda, (*float64)(unsafe.Pointer(b)), (*float64)(unsafe.Pointer(c)),
		ldc, float64(alpha), float64(beta), load, rows, cols, ldb)
}
