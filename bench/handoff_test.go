package bench

import (
	"fmt"
	"testing"
)

// TinySpec is a net whose step is almost nothing but the trainer's own
// work: 784·2 + 2 parameters.
const TinySpec = "784-2:softmax"

// BenchmarkStepHandoff is BenchmarkTrainStep's wall-clock step for a net
// too small to compute anything (TinySpec, 2 rows): with 2 workers, what
// it costs beyond 1 is the step's three phase hand-offs and its serial
// parts, which the MLP's 2-worker step pays on top of its shards.
func BenchmarkStepHandoff(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { benchTrainSpec(b, TinySpec, w, 2) })
	}
}
