package num

// addAVX adds x into y with add_amd64.s and reports true, or reports false
// where that kernel does not run (no AVX, purego, other architectures, or too
// short a vector), leaving Axpy to the BLAS. Axpy(1, x, y) is the
// all-reduce's addition and the per-row sums of bias gradients; gonum's
// axpy runs 128-bit vectors, this 256-bit ones without the multiply.
func addAVX[T Float](x, y []T) bool {
	if !haveAddAVX {
		return false
	}
	if Is32[T]() {
		n := len(x) &^ 31
		if n == 0 {
			return false
		}
		add32AVX(&As32(y)[0], &As32(x)[0], n)
		for i := n; i < len(x); i++ {
			y[i] += x[i]
		}
		return true
	}
	n := len(x) &^ 15
	if n == 0 {
		return false
	}
	add64AVX(&As64(y)[0], &As64(x)[0], n)
	for i := n; i < len(x); i++ {
		y[i] += x[i]
	}
	return true
}
