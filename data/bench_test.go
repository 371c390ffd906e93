package data

import (
	"path/filepath"
	"testing"
)

// BenchmarkLoadMNIST reports the time to read the MNIST training and test
// files and the bytes the datasets hold.
func BenchmarkLoadMNIST(b *testing.B) {
	dir := filepath.Join(sharedDatasets(b), "mnist")
	var held int
	for b.Loop() {
		train, test, err := LoadMNIST(dir, false)
		if err != nil {
			b.Fatal(err)
		}
		held = train.Bytes() + test.Bytes()
	}
	b.ReportMetric(float64(held)/1e6, "MB-held")
}

// BenchmarkBatch fills one MNIST-shaped batch of 128 (uint8 → float32,
// scaled) and shards it over 4 workers.
func BenchmarkBatch(b *testing.B) {
	d := &Dataset{Name: "bench", N: 1024, Features: 784, U8: make([]uint8, 1024*784), Labels: make([]int32, 1024), Classes: digitNames, Scale: make([]float64, 784)}
	for j := range d.Scale {
		d.Scale[j] = 1.0 / 255
	}
	bt, _ := NewBatcher[float32](d, 128, 10, true, 1)
	x, y := make([]float32, 128*784), make([]float32, 128*10)
	b.ReportAllocs()
	for b.Loop() {
		if bt.Next(x, y) == 0 {
			bt.Epoch(1)
		}
		for w := 0; w < 4; w++ {
			_, _ = Shard(128, 4, w)
		}
	}
	b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "samples/s")
}
