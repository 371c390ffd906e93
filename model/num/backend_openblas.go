//go:build openblas

package num

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"

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
	C.openblas_set_num_threads(C.int(n))
}

// Backend names the BLAS implementation this binary was built with.
func Backend() string {
	return fmt.Sprintf("OpenBLAS (%s, %d thread(s))", C.GoString(C.openblas_get_config()), int(C.openblas_get_num_threads()))
}

// No tiling: OpenBLAS gets the whole product and blocks it itself.
const gemmTileM, gemmTileN = 0, 0

// ownGemm: GEMM runs OpenBLAS, never ptrain's kernels.
const ownGemm = false
