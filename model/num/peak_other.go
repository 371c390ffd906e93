//go:build !amd64 || purego

package num

// fmaPeak: no peak loop without the amd64 assembly.
func fmaPeak(k *gemmISA) (loop func(n int), flops int) { return nil, 0 }
