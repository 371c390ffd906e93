//go:build openblas

package main

// buildTags are the tags the tests were built with: the binary the
// end-to-end tests drive is built with them too, so that it computes
// with the same BLAS as the library in the tests that compare the two
// bit for bit.
const buildTags = "openblas"
