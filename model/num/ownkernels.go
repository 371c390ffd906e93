package num

// OwnKernels reports whether Gemm runs ptrain's own micro-kernels (gemm.go)
// for every product in this build on this CPU, rather than OpenBLAS's or
// gonum's: wherever the CPU has them, in either build. On them
// each element of a product is one sequential sum of fused multiply-adds
// over k, whatever the shape it is computed in, and beta = 1 adds the
// product with one rounding: what callers that compute a product in pieces
// and expect its bits rely on (model.Workspace.WeightGradRange).
func OwnKernels() bool { return isa != nil }
