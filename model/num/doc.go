// Package num is ptrain's numeric core: a row-major dense matrix over the
// element type T (float32 or float64) and the few kernels a feed-forward
// network needs — GEMM with transposes, bias add, column sums, axpy, scal,
// dot — written once over T.
//
// All BLAS calls go through blas.go, the single place that turns []T into
// []float32 or []float64 and calls gonum's blas32 or blas64. Which BLAS
// implementation runs behind those packages is chosen at build time: the
// pure-Go gonum implementation by default, OpenBLAS (through cgo and
// gonum.org/v1/netlib) with the build tag "openblas". Backend reports which.
//
// Matrices are row-major with no padding: element (i, j) of an r×c matrix
// is Data[i*c+j]. Kernels never allocate; shapes are checked and a
// mismatch is a programmer error that panics with a "num: ..." message.
package num
