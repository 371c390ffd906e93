//go:build !amd64 || purego

package model

func affine32AVX(x, z *float32, n int, a, b float32) { panic("unreachable") }

func inputGrad32AVX(x, dz, dx *float32, n int, t *[5]float64) { panic("unreachable") }

func sum32AVX(x *float32, n int) float64 { panic("unreachable") }

func sqDev32AVX(x *float32, n int, m float64) float64 { panic("unreachable") }

func gradSums32AVX(dy, x *float32, n int, m float64) (sdy, sdyx float64) { panic("unreachable") }

func affineReLU32AVX(x, z *float32, n int, a, b float32) { panic("unreachable") }

func affine2AddReLU32AVX(a, x, y *float32, n int, ax, bx, ay, by float32) { panic("unreachable") }

func reluMask32AVX(x, d *float32, n int, a, b float32) { panic("unreachable") }
