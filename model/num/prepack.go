package num

import "fmt"

// A GEMM whose B is packed once and shared: c = alpha·a·op(b) + beta·c for
// many a and one b, as the data-parallel trainer's workers compute x·Wᵀ
// for their shards of a batch against the same weights. gemmPacked packs
// op(b) on every call, and with few rows of a that copy costs about a
// quarter of the product (16×256×784: the transposing copy of W is 12% of
// a 16-row MLP pass's CPU time). With a PackedB, the panels are packed
// once — in parallel, by whoever claims them — and every product streams
// the same packed panels read-only.
//
// Layout: op(b) is cut as gemmPacked cuts it, into blocks of nc columns
// (outer) and kb rows (inner, k split into equal blocks of at most
// gemmKC); block (jc, pc) is stored as gemmPacked's pb holds it, panels of
// nr columns, kc rows of nr each, the last panel padded with zeros. So
// GemmPackedB calls the micro-kernel with exactly the operands, in exactly
// the order, that Gemm's packed path does, and its result equals Gemm's
// bit for bit (TestGemmPackedBMatchesGemm).

// PackedB is op(b), a k×n matrix, packed for GemmPackedB. Its panels are
// packed one unit at a time by PackUnit, so that several goroutines can
// share the work; the caller orders every PackUnit before every
// GemmPackedB that reads the packing (a barrier), and packs again after b
// changes. Where ptrain's kernels do not run (purego, a CPU without AVX2)
// or would not take the packed path for these shapes, Units is 0 and
// GemmPackedB calls Gemm.
type PackedB[T Float] struct {
	tb     bool
	k, n   int
	ks     *gemmISA // the kernels the packing was laid out for; nil: none
	nr     int
	blocks []packBlock
	units  []packUnit
	data   []T
}

// packBlock is block (jc, pc) of op(b): rows pc..pc+kc, columns
// jc..jc+ncb, at data[off:].
type packBlock struct{ jc, ncb, pc, kc, off int }

// packUnit is panel jr (a multiple of nr) of block b.
type packUnit struct{ b, jr int }

// NewPackedB lays out the packing of op(b), k×n (b is n×k when tb, else
// k×n). It allocates the packed copy: k·n elements rounded up to whole
// panels.
func NewPackedB[T Float](tb bool, k, n int) *PackedB[T] {
	if isa == nil || k <= 0 || n <= 0 || (tb && abtPath(n, k) != pathPacked) {
		return &PackedB[T]{tb: tb, k: k, n: n} // Gemm does not take the packed path: nothing to share
	}
	return newPackedB[T](tb, k, n)
}

// newPackedB lays out the packing whatever path Gemm takes for the shape.
func newPackedB[T Float](tb bool, k, n int) *PackedB[T] {
	p := &PackedB[T]{tb: tb, k: k, n: n}
	p.ks = isa
	nc := gemmNC64
	p.nr = isa.d.nr
	if Is32[T]() {
		p.nr, nc = isa.s.nr, gemmNC32
	}
	nc -= nc % p.nr                 // blocks of whole panels, as gemmPacked's: every panel starts at a multiple of nr
	kb := (k + gemmKC - 1) / gemmKC // as gemmPacked cuts k
	kb = (k + kb - 1) / kb
	size := 0
	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		panels := (ncb + p.nr - 1) / p.nr
		for pc := 0; pc < k; pc += kb {
			kc := min(kb, k-pc)
			for q := range panels {
				p.units = append(p.units, packUnit{b: len(p.blocks), jr: q * p.nr})
			}
			p.blocks = append(p.blocks, packBlock{jc: jc, ncb: ncb, pc: pc, kc: kc, off: size})
			size += kc * panels * p.nr
		}
	}
	p.data = Alloc[T](size)
	return p
}

// Units is how many independent pieces PackUnit packs: 0 when GemmPackedB
// would not read a packing.
func (p *PackedB[T]) Units() int { return len(p.units) }

// Usable reports whether GemmPackedB reads the packing for a product with
// m rows of a; when it does not (no kernels, or a tile for m rows whose
// panels are laid out otherwise), it calls Gemm, and the packing need not
// exist.
func (p *PackedB[T]) Usable(m int) bool {
	if p.ks == nil || p.ks != isa {
		return false
	}
	// The packing is laid out in panels of the ISA's first tile's width;
	// for m rows Gemm may pick a second tile (AVX-512's 6×32, whose panels
	// are as wide, or AVX2's 4×24 where 6×16 pads rows, whose are wider:
	// then GemmPackedB must call Gemm to equal it).
	sk, dk := p.ks.tiles(m, p.n)
	if Is32[T]() {
		return sk.nr == p.nr
	}
	return dk.nr == p.nr
}

// PackUnit packs unit u (0 ≤ u < Units()) of op(b) from b, whose leading
// dimension is ldb. Different units write disjoint parts of the packing, so
// goroutines may pack different units at the same time.
func (p *PackedB[T]) PackUnit(u int, b []T, ldb int) {
	un := p.units[u]
	bl := p.blocks[un.b]
	nj := min(p.nr, bl.ncb-un.jr)
	checkGemm(false, p.tb, 1, p.n, p.k, p.k, p.k, len(b), ldb, p.n, p.n) // b's shape only
	packB(p.tb, b, ldb, bl.pc, bl.kc, bl.jc+un.jr, nj, p.nr, p.data[bl.off+un.jr*bl.kc:])
}

// GemmPackedB computes c = alpha·a·op(b) + beta·c, a m×k (lda), c m×n
// (ldc), reading op(b) from p's packing when p.Usable(m) — all of p's
// units must then have been packed from b — and otherwise calling Gemm on
// b (ldb). The result equals Gemm's bit for bit either way.
func GemmPackedB[T Float](m int, alpha T, a []T, lda int, p *PackedB[T], b []T, ldb int, beta T, c []T, ldc int) {
	if m <= 0 || alpha == 0 || !p.Usable(m) {
		Gemm(false, p.tb, m, p.n, p.k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkGemm(false, p.tb, m, p.n, p.k, len(a), lda, len(b), ldb, len(c), ldc)
	p.gemm(m, alpha, a, lda, 0, p.n, beta, c, ldc)
}

// kernels are the tiles that compute m rows from p's panels (see
// GemmPackedBColumns): Gemm's for m rows and p's n columns where its
// panels are p.nr wide, else the instruction set's first tile.
func (p *PackedB[T]) kernels(m int) (kernel32, kernel64) {
	sk, dk := p.ks.tiles(m, p.n)
	if Is32[T]() && sk.nr != p.nr {
		sk = p.ks.s
	}
	if !Is32[T]() && dk.nr != p.nr {
		dk = p.ks.d
	}
	return sk, dk
}

// Panel is the width of p's panels, the unit of the column ranges that
// PackColumns and GemmPackedBColumns take; 0 where nothing is packed.
func (p *PackedB[T]) Panel() int { return p.nr }

// PackColumns packs the units of op(b)'s columns [j0, j1): those of
// GemmPackedBColumns over the same range. j0 must be a multiple of Panel()
// and j1 too, or n. Goroutines may pack disjoint ranges at the same time.
func (p *PackedB[T]) PackColumns(j0, j1 int, b []T, ldb int) {
	p.checkColumns(j0, j1)
	for u, un := range p.units {
		if j := p.blocks[un.b].jc + un.jr; j >= j0 && j < j1 {
			p.PackUnit(u, b, ldb)
		}
	}
}

// GemmPackedBColumns is GemmPackedB on columns [j0, j1) of c only, the rest
// of c untouched: the columns of a product split among goroutines, each
// reading only the panels it has packed (PackColumns over the same range).
// Each element of c gets the bits Gemm gives it over all n columns: the
// tile Gemm picks for m rows where its panels are p's, else the
// instruction set's first tile, whose panels p's are (AVX2's 6×16 where
// Gemm would pick 4×24 for 16 or 32 rows: 12% more rows computed, no
// packing of its own) — every tile sums each element over k in the same
// order (TestGemmRowsIndependentOfTile). p.Splits() must hold, and j0, j1
// be as for PackColumns.
func GemmPackedBColumns[T Float](m int, alpha T, a []T, lda int, p *PackedB[T], j0, j1 int, beta T, c []T, ldc int) {
	p.checkColumns(j0, j1)
	if !p.Splits() {
		panic("num: GemmPackedBColumns on a packing laid out for other kernels, or none")
	}
	if m <= 0 || j0 == j1 {
		return
	}
	checkGemm(false, false, m, p.n, p.k, len(a), lda, p.k*p.n, p.n, len(c), ldc) // op(b) is p's own
	if alpha == 0 {                                                              // c = beta·c, as Gemm: with beta = 0 written, not read
		for i := range m {
			r := c[i*ldc+j0 : i*ldc+j1]
			if beta == 0 {
				clear(r)
			} else {
				Scal(beta, r)
			}
		}
		return
	}
	p.gemm(m, alpha, a, lda, j0, j1, beta, c, ldc)
}

// Splits reports whether GemmPackedBColumns computes from this packing: it
// holds panels, laid out for the running kernels.
func (p *PackedB[T]) Splits() bool { return p.ks != nil && p.ks == isa }

// checkColumns panics unless [j0, j1) is a range of whole panels of p.
func (p *PackedB[T]) checkColumns(j0, j1 int) {
	if p.nr == 0 || j0 < 0 || j0 > j1 || j1 > p.n || j0%p.nr != 0 || (j1%p.nr != 0 && j1 != p.n) {
		panic(fmt.Sprintf("num: columns [%d, %d) are not whole panels of %d of a packing of %d columns", j0, j1, p.nr, p.n))
	}
}

// gemm is the loops of gemmPacked with B's packing taken from p, over the
// panels in columns [j0, j1): block (jc, pc) in the same order, so every
// element of c sees the same sums in the same order whatever the range.
func (p *PackedB[T]) gemm(m int, alpha T, a []T, lda, j0, j1 int, beta T, c []T, ldc int) {
	sk, dk := p.kernels(m) // tiles whose panels are p.nr wide
	mr, nr := dk.mr, p.nr
	if Is32[T]() {
		mr = sk.mr
	}
	mcMax := gemmMC - gemmMC%mr // as gemmPacked's
	buf := getGemmBuf()
	pa := asT[T](buf.a)
	for _, bl := range p.blocks {
		lo, hi := max(j0-bl.jc, 0), min(j1-bl.jc, bl.ncb)
		if lo >= hi {
			continue
		}
		load, bt := 1, T(1)
		if bl.pc == 0 {
			bt = beta
			if beta == 0 {
				load = 0
			}
		}
		pb := p.data[bl.off:]
		for ic := 0; ic < m; ic += mcMax {
			mc := min(mcMax, m-ic)
			packA(false, a, lda, ic, mc, bl.pc, bl.kc, mr, pa)
			for ir := 0; ir < mc; ir += mr {
				mi := min(mr, mc-ir)
				ap := &pa[ir*bl.kc]
				for jr := lo; jr < hi; jr += nr {
					nj := min(nr, bl.ncb-jr)
					microKernel(sk.fn, dk.fn, bl.kc, ap, &pb[jr*bl.kc], &c[(ic+ir)*ldc+bl.jc+jr], ldc, alpha, bt, load, mi, nj, nr)
				}
			}
		}
	}
	putGemmBuf(buf)
}
