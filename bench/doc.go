// Package bench holds ptrain's benchmarks: the numeric core against the
// GEMM it is built on, and the data-parallel trainer across worker counts.
// Run them with
//
//	go test -bench . -benchmem ./bench/
//	CGO_LDFLAGS=-lopenblas go test -tags openblas -bench . -benchmem ./bench/
//
// bench/README.md has the command lines and results measured here.
//
// The package has no code besides this comment: its _test.go files use
// the library through its exported API only, as a user would. Each
// Benchmark function is a thin named wrapper over one seeded helper
// (benchForwardBackward, benchTrainStep, benchReduce) that builds its
// model (MNISTSpec), data and trainer before the timer starts, calls
// b.ReportAllocs, and
// reports the figure the README tabulates: samples/s, GFLOP/s, GB/s, or
// each phase's share of a training step. The inputs are drawn from fixed
// seeds, so two runs differ only by the machine: compare versions with
// -count and benchstat, never single runs (on the shared two-core machine
// the same benchmark moves by 20–50% between runs minutes apart).
//
// BenchmarkForwardBackward and BenchmarkTrainStep report 0 allocs/op in
// every row of the README: an allocation that appears there is a
// regression in the library, not in the benchmark.
//
// There is no Example: the benchmarks are the runnable documentation,
// with the figures in bench/README.md.
package bench
