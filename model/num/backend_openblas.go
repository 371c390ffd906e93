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
// on a CPU with the micro-kernels the kernels that run every GEMM. It
// starts with "OpenBLAS" either way.
func Backend() string {
	s := fmt.Sprintf("OpenBLAS (%s, %d thread(s))", openblas.Config(), openblas.NumThreads())
	if isa != nil {
		s += " and ptrain GEMM kernels (" + isa.name + ") for every GEMM"
	}
	return s
}

// No tiling: OpenBLAS gets the whole product and blocks it itself.
const gemmTileM, gemmTileN = 0, 0

// Where the CPU has ptrain's micro-kernels (AVX2 with FMA, or AVX-512),
// Gemm runs them for every product in this build too, and OpenBLAS only on
// CPUs without them (and for long vectors' level-1 routines, blas.go).
//
// Until 2026-12-07 this build gave OpenBLAS the shapes where its kernels
// had measured faster on Zen 4 (a side shorter than 32: first
// convolutions, classifiers, few rows of a weight gradient). That broke
// the trainer's exactness on the next CPU a session drew, a Zen 5 (family
// 26) with the environment's OPENBLAS_CORETYPE=Haswell: there OpenBLAS's
// Haswell kernels give a row of a product different bits with the
// product's number of rows (m×16 products with k = 24: 296 of 324
// sub-products of 1–63 rows differed from the 64-row product's rows;
// none with its Cooperlake or SkylakeX kernels), and 2 ranks × 2 workers no longer
// trained the bits of 1 × 4, nor did evaluation on ranks give one
// process's loss (TestTopologiesBitIdenticalWithSplit,
// TestEvaluateUnderMPIKeepsTheRanksBuffers, bench's
// TestWeightGradSplitChainIsExact). Which kernels OpenBLAS runs depends
// on the CPU and on environment variables ptrain does not control, so no
// shape is safe to give it. And on that CPU ptrain's AVX-512 kernels ran
// every shape of the trainers' steps 1.6–4.9× as fast as the Haswell
// kernels OpenBLAS was pinned to (bench/README.md, "Zen 5").
