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
//
// # Buffers
//
// A Matrix owns nothing: it is a view, and several may view one buffer (a
// layer's weights are a view into the model's flat parameter buffer).
// Buffers that results must repeat over come from Alloc, whose 64-byte
// alignment keeps BLAS kernels on the same code path, and so the same
// rounding, in every run. Kernels write only their output argument.
//
// # Concurrency
//
// The kernels keep no state: any number may run at once as long as no
// output overlaps another call's input or output. The data-parallel
// trainer's workers run their GEMMs into their own workspaces, reading one
// shared weight buffer.
//
// # Who imports it
//
// num sits under model/ as the bottom of the numeric stack, and imports
// nothing of ptrain. optim and data import it, and not model: both need
// the element type constraint Float and Is32 and As32 for loops written on
// concrete types (optim's update kernels, data's uint8-to-float32 fill);
// optim also allocates its state with Alloc and runs Axpy, Scal and
// SumSquares over flat slices. So optim updates parameters without knowing
// what a layer is, and data fills batches without knowing what a model is.
//
// ExampleMatMul computes a dense layer's forward product on views of one
// flat buffer.
package num
