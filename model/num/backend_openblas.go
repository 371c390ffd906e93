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

// Backend names the BLAS implementation this binary was built with.
func Backend() string {
	return fmt.Sprintf("OpenBLAS (%s, %d thread(s))", openblas.Config(), openblas.NumThreads())
}

// No tiling: OpenBLAS gets the whole product and blocks it itself.
const gemmTileM, gemmTileN = 0, 0

// ownShape says whether Gemm runs ptrain's kernels (where the CPU has
// them) rather than OpenBLAS for a product whose op(b) is k×n: every
// product with a transposed a (a dense layer's weight gradient dZᵀ·X, so
// that its pieces give the whole product's bits, see OwnKernels), and the
// others of at least 32 columns and a k of at least 32. OpenBLAS keeps the
// products with a short side, where its kernels win: a first convolution's
// (k = 9 or 25 of C·K·K; its weight gradient's 9 or 25 columns), ResNet's
// 1×1 shortcut (k = 16), a classifier's 10 columns. Measured on Zen 4 with
// OpenBLAS 0.3.21's Cooperlake kernels (float32 CPU time, bench/README.md,
// "The OpenBLAS build's products"): ptrain's AVX-512 kernels ran the MLP's
// products 1.1–1.6× as fast at 16–64 rows and within 5% at 128–512, the
// CNNs' others at 0.9–1.3×; OpenBLAS ran the short-sided ones 1.2–5× as
// fast as the kernels. And every product the kernels take is a cgo call
// fewer: a goroutine in a cgo call hands its P to sysmon, and the trainer's
// phase hand-offs wait for it to take one back.
func ownShape(ta bool, n, k int) bool { return ta || n >= 32 && k >= 32 }

// ownEverywhere: OpenBLAS keeps some shapes. A row of a product OpenBLAS
// computes may round differently with the product's number of rows, so 2
// workers' split weight gradients are not 1 worker's bits in this build
// (within rounding, as the trainer's tests require).
const ownEverywhere = false
