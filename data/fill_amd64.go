//go:build !purego

package data

import "golang.org/x/sys/cpu"

// haveAVX says whether filling float32 rows from uint8 features runs in
// fill_amd64.s. Tests turn it off to compare with the Go loop.
var haveAVX = cpu.X86.HasAVX

//go:noescape
func u8AffineF32AVX(src *uint8, scale, shift *float64, dst *float32, n int)
