package data_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ptrain/ptrain/data"
)

// TestSplit holds out the rows ptrain train holds out, and says which:
// the record to keep in a checkpoint (checkpoint.Checkpoint.TrainedOn).
func ExampleDataset_TestSplit() {
	ds, err := data.Digits()
	if err != nil {
		log.Fatal(err)
	}
	train, test, info, err := ds.TestSplit(0.2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(train.N, "training rows,", test.N, "test rows")
	fmt.Printf("of %d rows (fingerprint %s…), share %g, seed %d\n", info.Rows, info.Short(), info.Share, info.Seed)
	fmt.Println("inputs in", data.InputRange(train, 0))
	// Output:
	// 1438 training rows, 359 test rows
	// of 1797 rows (fingerprint 7340d8c14d1f…), share 0.2, seed 20240601
	// inputs in [0, 1]
}

// Download fetches MNIST into the user's cache directory, verified, and
// LoadMNIST reads it.
func ExampleDownload() {
	cache, err := os.UserCacheDir()
	if err != nil {
		log.Fatal(err)
	}
	dir := filepath.Join(cache, "ptrain", "mnist")
	if err := data.Download(context.Background(), nil, data.MNISTSource, dir, nil); err != nil {
		log.Fatal(err)
	}
	train, test, err := data.LoadMNIST(dir, false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(train.N, test.N)
}
