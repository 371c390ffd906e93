//go:build !mpi

package mpi_test

import (
	"fmt"

	"github.com/ptrain/ptrain/parallel/mpi"
)

// Without -tags mpi, and not started by mpirun, Init gives the stand-in
// world of one rank, whose collectives leave the buffers as they are.
func ExampleInit() {
	w, err := mpi.Init()
	if err != nil {
		panic(err)
	}
	defer w.Close()
	grad := []float32{0.5, -1}
	if err := w.AllReduce32(grad); err != nil { // the sum over one rank
		panic(err)
	}
	fmt.Println(mpi.Available, w.Rank(), w.Size(), grad)
	// Output: false 0 1 [0.5 -1]
}
