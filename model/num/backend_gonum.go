//go:build !openblas

package num

// Backend names the BLAS implementation this binary was built with.
func Backend() string { return "gonum (pure Go)" }
