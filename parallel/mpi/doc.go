// Package mpi joins ptrain processes on one or several machines into one
// data-parallel job through MPI (Open MPI or MPICH, launched by mpirun).
//
// Built with -tags mpi it binds the MPI C API through cgo (pkg-config
// "ompi-c", or "mpi" with -tags mpich); without the tag, Init returns a
// stand-in world of one rank, so ordinary builds never need MPI.
//
// MPI is initialised with MPI_THREAD_FUNNELED: every MPI call is made by one
// goroutine locked to the thread that initialised MPI, in the order the
// callers ask, which is the same on every rank because every rank runs the
// same training loop. Handing that goroutine a call costs tens of
// microseconds, so callers pass whole gradient buffers, not pieces.
//
// Launch: mpirun --bind-to none -np N ptrain train ... Open MPI binds each
// rank to one core by default, and Go then runs on one core only
// (GOMAXPROCS 1): ptrain warns when it sees that.
//
// Every World method is a collective: all ranks call it, in the same
// order, with the same sizes, or the job hangs. The reductions and
// broadcasts work in place on the caller's buffer, which MPI reads and
// writes until the call returns; the caller keeps it and must not touch it
// meanwhile. A World may be called from any goroutine, but calls are made
// one at a time in the order they arrive, so a caller that wants the same
// order on every rank makes them from one goroutine (package parallel has
// one, its comm goroutine). Close ends MPI for the process: it cannot be
// initialised again.
//
// ExampleInit runs in a build without -tags mpi: a world of one rank.
package mpi

import (
	"os"
	"strconv"
)

// World is an MPI job's set of processes. It implements parallel.Group.
// Every method is a collective call: all ranks must call it, in the same
// order, with the same sizes.
type World interface {
	Rank() int
	Size() int
	AllReduce32(buf []float32) error // in place: every rank ends with the element-wise sum
	AllReduce64(buf []float64) error
	Broadcast32(buf []float32, root int) error // every rank ends with root's buf
	Broadcast64(buf []float64, root int) error
	Barrier() error
	// Abort ends every rank of the job with code; it does not return.
	Abort(code int)
	// Close finalises MPI; the world is unusable afterwards.
	Close() error
}

// LaunchedSize is the number of ranks the launcher's environment announces
// (Open MPI, MPICH/PMI or PMIx), or 0 when the process was not started by
// an MPI launcher.
func LaunchedSize() int {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"} {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
			return v
		}
	}
	return 0
}
