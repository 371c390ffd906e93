//go:build unix

package main

import (
	"os"
	"syscall"
)

// trainStopSignals stop training as SIGINT does, besides SIGINT and
// SIGTERM. SIGUSR1 is for MPI runs: Open MPI's mpirun forwards it to every
// rank (ess_base_forward_signals' default list) and lets the ranks end
// the job, so it exits with their status, 130; SIGINT and SIGTERM it
// traps itself, and then exits with 1 whatever the ranks' status (README,
// "Several processes and machines").
var trainStopSignals = []os.Signal{syscall.SIGUSR1}
