package bench

import (
	"fmt"
	"testing"
)

// BenchmarkTrainScaling is BenchmarkTrainStep's wall-clock step for the
// scaling table (bench/scaling.sh): the MLP, the small CNN and ResNet-8 at batch 32,
// 64, 128 and 512 on 1 and 2 workers, with the phase shares. It needs
// nothing newer than benchTrainSpec, so that bench/scaling.sh can copy
// this file into an older revision to measure it before a change.
func BenchmarkTrainScaling(b *testing.B) {
	for _, net := range []struct{ name, spec string }{{"mlp", MNISTSpec}, {"smallcnn", SmallCNN}, {"resnet8", ResNet8}} {
		for _, batch := range []int{32, 64, 128, 512} {
			for _, w := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/batch=%d/workers=%d", net.name, batch, w), func(b *testing.B) { benchTrainSpec(b, net.spec, w, batch) })
			}
		}
	}
}
