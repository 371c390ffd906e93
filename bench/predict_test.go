package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/onnx"
)

// predictModels are the models whose inference bench/onnx.sh compares
// with onnxruntime's: the digits MLP (ptrain train's default), the MNIST
// MLP, the README's MNIST CNN with batch norm and ResNet-8 (residual
// blocks: Add nodes and 1×1 projection shortcuts in the ONNX graph).
var predictModels = []struct{ name, spec string }{
	{"digits-mlp", "64-128:relu-10:softmax"},
	{"mnist-mlp", MNISTSpec},
	{"mnist-cnn-bn", "1x28x28-conv(16,5)-bn:relu-maxpool(2)-conv(32,5)-bn:relu-maxpool(2)-flatten-128:relu-10:softmax"},
	{"resnet8", ResNet8},
}

// BenchmarkPredict is the evaluation pass ptrain predict runs on each
// batch (Workspace.Forward without dropout, batch norm from its running
// statistics), float32, on batches of 1 and 256 rows; reading and printing
// CSV are not counted, as onnxruntime's figure does not count them. Run it
// with -cpu 1 for one thread. With PTRAIN_ONNX_DIR set it also writes
// each model (seed 1) there as NAME.onnx, for bench/onnx.sh to run the
// same weights in onnxruntime.
func BenchmarkPredict(b *testing.B) {
	for _, pm := range predictModels {
		m, err := model.New[float32](model.MustParseSpec(pm.spec), 1)
		if err != nil {
			b.Fatal(err)
		}
		if dir := os.Getenv("PTRAIN_ONNX_DIR"); dir != "" {
			if err := onnx.Save(filepath.Join(dir, pm.name+".onnx"), &checkpoint.Checkpoint[float32]{Model: m}, onnx.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		for _, batch := range []int{1, 256} {
			b.Run(fmt.Sprintf("%s/batch=%d", pm.name, batch), func(b *testing.B) { benchPredict(b, m, batch) })
		}
	}
}

func benchPredict(b *testing.B, m *model.Model[float32], batch int) {
	ws := model.NewWorkspace(m, batch)
	x := make([]float32, batch*m.Spec.Inputs)
	randomFill(x, 3)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ws.Forward(x, batch, false)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
}
