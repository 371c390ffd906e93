package bench

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/ptrain/ptrain/parallel"
)

// noLayerStats turns the trainer's per-layer statistics off in every
// benchmark here, to measure their cost against the default (on):
//
//	go test -c -o bench.test ./bench
//	./bench.test -test.run XXX -test.bench 'TrainStep/batch=128' -test.count 1 -nostats
//
// run alternately with and without -nostats, then compare with benchstat.
var noLayerStats = flag.Bool("nostats", false, "benchmark with parallel.Config.NoLayerStats")

// threadCPU is the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTrainStepCPU is BenchmarkTrainStep's batch-128 step with one
// worker, which runs on the benchmark's own goroutine: locked to its
// thread, the step's CPU time (cpu-ns/op, and cpu-samples/s from it) is
// measured too, a figure that other processes on a loaded machine disturb
// far less than wall time; for the MNIST MLP, LeNet-5 and the small CNN,
// and ResNet-8 at batch 64 and 128.
func BenchmarkTrainStepCPU(b *testing.B) {
	for _, net := range []struct{ name, spec string }{{"mlp", MNISTSpec}, {"lenet5", LeNet5}, {"smallcnn", SmallCNN}} {
		b.Run(net.name, func(b *testing.B) { benchStepCPU(b, net.spec, 128) })
	}
	for _, batch := range []int{64, 128} {
		b.Run(fmt.Sprintf("resnet8/batch=%d", batch), func(b *testing.B) { benchStepCPU(b, ResNet8, batch) })
	}
}

func benchStepCPU(b *testing.B, spec string, batch int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tr := trainer(b, spec, 1)
	x := make([]float32, batch*784)
	randomFill(x, 3)
	y := make([]float32, batch*10)
	for r := 0; r < batch; r++ {
		y[r*10+r%10] = 1
	}
	var cpu time.Duration
	err := tr.Run(context.Background(), func(s *parallel.Session[float32]) error {
		if _, err := s.Step(parallel.Batch[float32]{X: x, Y: y, N: batch}); err != nil { // warm-up
			return err
		}
		b.ReportAllocs()
		b.ResetTimer()
		c0 := threadCPU()
		for b.Loop() {
			if _, err := s.Step(parallel.Batch[float32]{X: x, Y: y, N: batch}); err != nil {
				return err
			}
		}
		cpu = threadCPU() - c0
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N*batch)/cpu.Seconds(), "cpu-samples/s")
}
