//go:build !openblas

package main

// buildTags: see tags_openblas_test.go.
const buildTags = ""
