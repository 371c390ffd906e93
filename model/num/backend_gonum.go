//go:build !openblas

package num

// Backend names the BLAS implementation this binary was built with.
func Backend() string {
	if isa != nil {
		return "ptrain GEMM kernels (" + isa.name + ") and gonum"
	}
	return "gonum (pure Go)"
}

// gemmTileM×gemmTileN is 3 blocks of gonum's 64×64: below the 4 it needs
// to go parallel.
const gemmTileM, gemmTileN = 192, 64
