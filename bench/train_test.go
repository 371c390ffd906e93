package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/ptrain/ptrain/internal/trainhook"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

var workerCounts = []int{1, 2, 4, 8}

// trainer builds the MNIST MLP with SGD+momentum for w workers.
func trainer(b testing.TB, spec string, w int) *parallel.Trainer[float32] {
	m, err := model.New[float32](model.MustParseSpec(spec), 1)
	if err != nil {
		b.Fatal(err)
	}
	opt, _ := optim.New[float32](optim.Defaults(optim.Momentum), len(m.Params))
	tr, err := parallel.New(m, opt, parallel.Config{Workers: w, Loss: model.DefaultLoss(m.Spec), NoLayerStats: *noLayerStats})
	if err != nil {
		b.Fatal(err)
	}
	return tr
}

func benchTrainStep(b *testing.B, w, batch int) { benchTrainSpec(b, MNISTSpec, w, batch) }

// The CNNs of bench/README.md's comparison with PyTorch.
const (
	LeNet5   = "1x28x28-conv(6,5,pad=2):relu-maxpool(2)-conv(16,5):relu-maxpool(2)-flatten-120:relu-84:relu-10:softmax"
	SmallCNN = "1x28x28-conv(32,3):relu-maxpool(2)-conv(64,3):relu-maxpool(2)-flatten-128:relu-10:softmax"
	// BNCNN is the README's MNIST recipe with batch norm.
	BNCNN = "1x28x28-conv(16,5)-bn:relu-maxpool(2)-conv(32,5)-bn:relu-maxpool(2)-flatten-128:relu-10:softmax"
	// ResNet8 is the residual-network issue's ResNet-8 for 28×28 images:
	// a stem, an identity block, two strided blocks with projection
	// shortcuts, global average pooling and a dense head.
	ResNet8 = "1x28x28-conv(16,3,pad=1)-bn:relu-res(conv(16,3,pad=1)-bn:relu-conv(16,3,pad=1)-bn):relu-res(conv(32,3,stride=2,pad=1)-bn:relu-conv(32,3,pad=1)-bn|conv(32,1,stride=2)-bn):relu-res(conv(64,3,stride=2,pad=1)-bn:relu-conv(64,3,pad=1)-bn|conv(64,1,stride=2)-bn):relu-gap-10:softmax"
)

// BenchmarkTrainStepCNN is BenchmarkTrainStep for LeNet-5, the small CNN,
// the README's batch-norm CNN and ResNet-8 on MNIST-shaped input.
func BenchmarkTrainStepCNN(b *testing.B) {
	for _, net := range []struct{ name, spec string }{{"lenet5", LeNet5}, {"smallcnn", SmallCNN}, {"bncnn", BNCNN}, {"resnet8", ResNet8}} {
		for _, batch := range []int{64, 128} {
			for _, w := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/batch=%d/workers=%d", net.name, batch, w), func(b *testing.B) { benchTrainSpec(b, net.spec, w, batch) })
			}
		}
	}
}

func benchTrainSpec(b *testing.B, spec string, w, batch int) {
	tr := trainer(b, spec, w)
	x := make([]float32, batch*784)
	randomFill(x, 3)
	y := make([]float32, batch*10)
	for r := 0; r < batch; r++ {
		y[r*10+r%10] = 1
	}
	err := tr.Run(context.Background(), func(s *parallel.Session[float32]) error {
		if _, err := s.Step(parallel.Batch[float32]{X: x, Y: y, N: batch}); err != nil { // warm-up
			return err
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := s.Step(parallel.Batch[float32]{X: x, Y: y, N: batch}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	st := tr.Stats()
	el := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*batch)/el, "samples/s")
	b.ReportMetric(100*(st.Forward+st.Backward+st.Data).Seconds()/el, "%compute")
	b.ReportMetric(100*st.Wait.Seconds()/el, "%wait")
	b.ReportMetric(100*st.AllReduce.Seconds()/el, "%allreduce")
	b.ReportMetric(100*st.Optimizer.Seconds()/el, "%optimizer")
}

// BenchmarkTrainStep is one optimizer step (forward, backward, all-reduce,
// momentum SGD) of the MNIST MLP in float32 on caller-filled batches.
func BenchmarkTrainStep(b *testing.B) {
	for _, batch := range []int{32, 128, 512} {
		for _, w := range workerCounts {
			b.Run(fmt.Sprintf("batch=%d/workers=%d", batch, w), func(b *testing.B) { benchTrainStep(b, w, batch) })
		}
	}
}

// allReduceSizes are gradient sizes of about 100k, 1M and 10M floats, as
// models "in-out" with out×in + out parameters.
var allReduceSizes = []struct {
	name, spec string
}{{"100k", "999-100"}, {"1M", "999-1000"}, {"10M", "9999-1000"}}

// benchReduce times, over every size and worker count, the reduction that
// prepare returns for a session; GB/s counts the bytes read and written,
// (W+1)·P·4.
func benchReduce(b *testing.B, minWorkers int, prepare func(s *parallel.Session[float32], w int) func() error) {
	for _, sz := range allReduceSizes {
		for _, w := range workerCounts {
			if w < minWorkers {
				continue
			}
			b.Run(fmt.Sprintf("P=%s/workers=%d", sz.name, w), func(b *testing.B) {
				tr := trainer(b, sz.spec, w)
				p := len(tr.Model().Params)
				_ = tr.Run(context.Background(), func(s *parallel.Session[float32]) error {
					reduce := prepare(s, w)
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						if err := reduce(); err != nil {
							b.Fatal(err)
						}
					}
					return nil
				})
				b.ReportMetric(float64(b.N)*float64((w+1)*p*4)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

// BenchmarkAllReduce is the trainer's reduction: each worker sums its
// chunk of all W gradient buffers in worker order, then checks it.
func BenchmarkAllReduce(b *testing.B) {
	benchReduce(b, 1, func(s *parallel.Session[float32], _ int) func() error {
		return func() error { return trainhook.AllReduce(s) }
	})
}

// BenchmarkAllReduceSerial is the reference: one goroutine adds every
// buffer into the first, O(W·P) on one core, no check.
func BenchmarkAllReduceSerial(b *testing.B) {
	benchReduce(b, 2, func(s *parallel.Session[float32], w int) func() error {
		g := trainhook.Grads(s).([][]float32)
		return func() error {
			for k := 1; k < w; k++ {
				num.Axpy(1, g[k], g[0])
			}
			return nil
		}
	})
}

// BenchmarkMemCopy copies P floats: the memory-bandwidth limit for the
// all-reduce figures above (GB/s counts read + written, 2·P·4).
func BenchmarkMemCopy(b *testing.B) {
	for _, sz := range []struct {
		name string
		p    int
	}{{"100k", 100_000}, {"1M", 1_000_000}, {"10M", 10_000_000}} {
		b.Run("P="+sz.name, func(b *testing.B) {
			src, dst := make([]float32, sz.p), make([]float32, sz.p)
			for b.Loop() {
				copy(dst, src)
			}
			b.ReportMetric(float64(b.N)*float64(2*sz.p*4)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// BenchmarkOptimizerStep is one step of each optimizer over the MNIST MLP's
// 235,146 float32 parameters on one core.
func BenchmarkOptimizerStep(b *testing.B) {
	n := model.MustParseSpec(MNISTSpec).NumParams()
	p, g := num.Alloc[float32](n), num.Alloc[float32](n)
	randomFill(p, 1)
	randomFill(g, 2)
	for _, m := range []optim.Method{optim.SGD, optim.Momentum, optim.RMSprop, optim.Adam} {
		b.Run(m.String(), func(b *testing.B) {
			opt, _ := optim.New[float32](optim.Defaults(m), n)
			b.ReportAllocs()
			for b.Loop() {
				opt.Step(p, g)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
		})
	}
}
