package bench

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCrossCore prices data that one core wrote and another then
// uses: what a data-parallel step pays for every byte one worker writes
// and another reads in the same step (the other workers' input rows, the
// weights another worker's update wrote, the panels another packed; see
// bench/README.md, "what did not move the 2-worker MLP"). A second
// goroutine writes a buffer of KB kilobytes; this one then copies it out
// ("read") or overwrites it ("write") — the first time with the lines in
// the other core's cache, modified, the second time with them in its own —
// and reports both times per round and the difference per megabyte.
// It needs two processors and is only meaningful when the two goroutines
// run on two cores: nothing else busy on the machine.
func BenchmarkCrossCore(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs two processors")
	}
	for _, kb := range []int{32, 128, 512} {
		for _, write := range []bool{false, true} {
			op := "read"
			if write {
				op = "write"
			}
			b.Run(fmt.Sprintf("%s/KB=%d", op, kb), func(b *testing.B) { benchCrossCore(b, kb, write) })
		}
	}
}

func benchCrossCore(b *testing.B, kb int, write bool) {
	n := kb * 1024 / 4
	buf, other := make([]float32, n), make([]float32, n)
	var turn atomic.Int32 // 0: the writer's turn, 1: this goroutine's, -1: stop
	go func() {
		for i := 0; ; i++ {
			for t := turn.Load(); t != 0; t = turn.Load() {
				if t < 0 {
					return
				}
			}
			for j := range buf {
				buf[j] = float32(i + j)
			}
			turn.Store(1)
		}
	}()
	var remote, local time.Duration
	for b.Loop() {
		for turn.Load() != 1 {
		}
		t0 := time.Now()
		if write {
			copy(buf, other)
		} else {
			copy(other, buf)
		}
		t1 := time.Now()
		if write {
			copy(buf, other)
		} else {
			copy(other, buf)
		}
		t2 := time.Now()
		remote, local = remote+t1.Sub(t0), local+t2.Sub(t1)
		turn.Store(0)
	}
	for turn.Load() != 1 { // the writer's last round
	}
	turn.Store(-1)
	rounds := float64(b.N)
	b.ReportMetric(remote.Seconds()*1e6/rounds, "other-core-µs")
	b.ReportMetric(local.Seconds()*1e6/rounds, "own-core-µs")
	b.ReportMetric((remote-local).Seconds()*1e6/rounds*1024/float64(kb), "extra-µs/MB")
}
