//go:build openblas

package num

import (
	"fmt"
	"os"
	"strconv"

	"github.com/ptrain/ptrain/model/num/internal/openblas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// With OpenBLAS every GEMM runs on one thread unless OPENBLAS_NUM_THREADS
// asks for more: ptrain's parallelism is across data-parallel workers, and
// OpenBLAS threads would fight them for the same cores.
func init() {
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	n := 1
	if s := os.Getenv("OPENBLAS_NUM_THREADS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	openblas.SetNumThreads(n)
}

// Backend names the BLAS implementation this binary was built with, and
// on a CPU with the micro-kernels the kernels that take the products
// ownShape gives them. It starts with "OpenBLAS" either way.
func Backend() string {
	s := fmt.Sprintf("OpenBLAS (%s, %d thread(s))", openblas.Config(), openblas.NumThreads())
	if isa != nil {
		s += " and ptrain GEMM kernels (" + isa.name + ") for the shapes they win"
	}
	return s
}

// No tiling: OpenBLAS gets the whole product and blocks it itself.
const gemmTileM, gemmTileN = 0, 0

// ownShape says whether Gemm runs ptrain's kernels (where the CPU has
// them) rather than OpenBLAS for a product of op(a), m×k, and op(b), k×n.
// Measured on Zen 4 against OpenBLAS 0.3.21 (float32 CPU time per shape,
// bench/README.md, "The OpenBLAS build's products"):
//
//   - with AVX-512, against OpenBLAS's Cooperlake kernels, ptrain's ran the
//     MLP's products 1.1–1.6× as fast at 16–64 rows and within 5% at
//     128–512, the CNNs' others at 0.9–1.3×; OpenBLAS won, by 1.2–5×, where
//     a side is short: a first convolution's k of 9 or 25 and its weight
//     gradient's 9 or 25 columns, a 1×1 shortcut's k of 16, a classifier's
//     10 columns, a weight gradient dZᵀ·X (a transposed) of 10 or 16 rows.
//     So the kernels take every product whose n and k are at least 32, and
//     whose m is too where a is transposed;
//   - with AVX2 only (AVX2 kernels against OpenBLAS's Haswell ones, on the
//     same cores), ptrain's won only at few rows, 1.07–1.12× at 16–32 rows
//     of the MLP's forward and input-gradient products, and lost up to
//     1.5× on bigger or transposed ones: the kernels take every product
//     of at most 32 rows with a untransposed (and n and k of at least
//     32). The rule sees shapes, not layers: it also gives them a
//     convolution's forward and weight-gradient products where the layer
//     has at most 32 output channels, which measured 0.53–1.17× (ResNet-8's
//     32-channel convolutions 0.53–1.11, its 16-channel ones 1.11–1.17,
//     LeNet-5's second 0.82–0.89), and the small CNN's 16-row dense
//     forward (0.95).
//
// Each product the kernels take is also a cgo call fewer: a goroutine in
// a long cgo call hands its P to sysmon, and the trainer's phase hand-offs
// wait for it to take one back.
func ownShape(ta bool, m, n, k int) bool {
	if n < 32 || k < 32 {
		return false
	}
	if isa == isaAVX512 {
		return !ta || m >= 32
	}
	return !ta && m <= 32
}

// ownEverywhere: OpenBLAS keeps some shapes. A row of a product OpenBLAS
// computes may round differently with the product's number of rows, so 2
// workers' split weight gradients are not 1 worker's bits in this build
// (within rounding, as the trainer's tests require).
const ownEverywhere = false
