// Package openblas is empty unless built with -tags openblas; see openblas.go.
package openblas
