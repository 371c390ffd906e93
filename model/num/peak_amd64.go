//go:build !purego

package num

// The register-only FMA loops of peak_amd64.s, for BenchmarkFMAPeak.

//go:noescape
func fmaPeakAVX512(n int)

//go:noescape
func fmaPeakAVX2(n int)

// fmaPeak returns the peak loop of k and the float32 flops of one of its
// iterations; nil where there is none.
func fmaPeak(k *gemmISA) (loop func(n int), flops int) {
	switch k {
	case isaAVX512:
		return fmaPeakAVX512, 12 * 16 * 2
	case isaAVX2:
		return fmaPeakAVX2, 12 * 8 * 2
	}
	return nil, 0
}
