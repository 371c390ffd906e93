package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
)

// Under MPI a run's interruption is the launcher's: mpirun signals every
// rank, and a rank that dies ends the job, possibly before the checkpoint
// the interrupt promises. What the command can say is which checkpoint is
// the last one written, and how to start the job again as it was started.

// lastCheckpoint describes the last checkpoint this run wrote ("PATH
// (epoch N)"), for the interrupt handler; nil before the first.
var lastCheckpoint atomic.Pointer[string]

// savedCheckpoint records that path now holds the progress of epoch
// epoch (and step batch of the next, when batch > 0).
func savedCheckpoint(path string, epoch, batch int) {
	s := fmt.Sprintf("%s (after epoch %d)", path, epoch)
	if batch > 0 {
		s = fmt.Sprintf("%s (epoch %d, step %d)", path, epoch+1, batch)
	}
	lastCheckpoint.Store(&s)
}

// mpiInterruptMessage is what rank 0 says on the first signal under MPI:
// the step in flight finishes and a checkpoint is written only if every
// rank is alive to finish it, so it names the checkpoint to fall back on.
func mpiInterruptMessage() string {
	last := "none has been written yet"
	if p := lastCheckpoint.Load(); p != nil {
		last = "the last one written is " + *p
	}
	return "\nptrain: stopping after the current step; a checkpoint is written if every rank finishes it — if one has failed, the job ends without it: " + last + ", the one to resume from"
}

// launcherPrefix is the launcher's part of its command line argv, up to
// the program it started (program, as this process's os.Args[0]), or nil
// if program is not in it.
func launcherPrefix(argv []string, program string) []string {
	for i := 1; i < len(argv); i++ {
		if argv[i] == program {
			return argv[:i]
		}
	}
	return nil
}

// launcherArgs is the command line of the MPI launcher that started this
// process (mpirun, mpiexec, orterun or prterun, found among its first
// ancestors in /proc) up to this program, or nil.
func launcherArgs() []string {
	pid := os.Getppid()
	for range 4 {
		if pid <= 1 {
			return nil
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			return nil
		}
		argv := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		switch filepath.Base(argv[0]) {
		case "mpirun", "mpiexec", "orterun", "prterun":
			return launcherPrefix(argv, os.Args[0])
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		// pid (comm) state ppid …: comm may hold spaces, so after the last ')'.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 2 {
			return nil
		}
		if pid, err = strconv.Atoi(f[1]); err != nil {
			return nil
		}
	}
	return nil
}
