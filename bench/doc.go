// Package bench holds ptrain's benchmarks: the numeric core against the
// GEMM it is built on, and the data-parallel trainer across worker counts.
// Run them with
//
//	go test -bench . -benchmem ./bench/
//	CGO_LDFLAGS=-lopenblas go test -tags openblas -bench . -benchmem ./bench/
//
// bench/README.md has the command lines and results measured here.
package bench
