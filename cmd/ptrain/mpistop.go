package main

import "github.com/ptrain/ptrain/parallel/mpi"

// interruptedExit ends an interrupted MPI run's use of MPI, on every
// rank, and reports whether MPI_Finalize is to be skipped. Open MPI's
// mpirun, interrupted itself (Ctrl-C, SIGTERM), tears the job down: it
// sends every rank SIGTERM, then SIGKILL odls_base_sigkill_timeout later
// (1 s by default), and MPI_Finalize, which waits on the launcher, took 2 s
// then (Open MPI 4.1.4): the ranks, their checkpoint written, died by
// SIGKILL rather than exit 130. A barrier needs only the ranks, and rank 0
// enters it after writing the checkpoint, so no rank's exit can end the
// job before the file is on disk; past it, each rank exits 130 without
// finalising.
func interruptedExit(world mpi.World) bool {
	return world.Barrier() == nil
}
