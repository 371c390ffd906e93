//go:build openblas

// Package openblas holds the OpenBLAS build's cgo calls that are not BLAS
// routines (those go through gonum.org/v1/netlib): the thread count and
// the library's configuration string. They live apart from package num
// because a package that uses cgo cannot hold Go assembly, and num's GEMM
// micro-kernels are Go assembly that the OpenBLAS build runs too.
package openblas

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
*/
import "C"

// SetNumThreads sets how many threads OpenBLAS's own routines use.
func SetNumThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// NumThreads is how many threads OpenBLAS's own routines use.
func NumThreads() int { return int(C.openblas_get_num_threads()) }

// Config is OpenBLAS's description of itself: version, core type, options.
func Config() string { return C.GoString(C.openblas_get_config()) }
