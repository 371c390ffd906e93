//go:build !linux

package num

import "time"

// threadCPU is unknown here: the benchmarks report wall-clock rates only.
func threadCPU() time.Duration { return 0 }
