//go:build !amd64 || purego

package num

import "unsafe"

// Without amd64 assembly there is no micro-kernel: GEMM runs gonum's, or
// OpenBLAS with -tags openblas.
var isaAVX512, isaAVX2 *gemmISA

func bestISA() *gemmISA { return nil }

func transpose8x32(src *float32, lds, n int, dst *float32, ldd int) { panic("unreachable") }

func transpose4x64(src *float64, lds, n int, dst *float64, ldd int) { panic("unreachable") }

func transpose4x32(src *float32, lds, n int, dst *float32, ldd int) { panic("unreachable") }

func transpose2x32(src *float32, lds, n int, dst *float32, ldd int) { panic("unreachable") }

func transpose2x64(src *float64, lds, n int, dst *float64, ldd int) { panic("unreachable") }

func copyRows(dst, src unsafe.Pointer, rows, width, lds int) { panic("unreachable") }
