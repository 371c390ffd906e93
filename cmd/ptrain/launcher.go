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

// launcherArgs is the part of an MPI launcher's command line argv
// before the program self (this process's os.Args[0]): the launcher and
// its flags. ok is false when argv is not a launcher's (mpirun, mpiexec,
// orterun, prterun) or does not run self directly.
func launcherArgs(argv []string, self string) ([]string, bool) {
	if len(argv) == 0 || !isLauncher(argv[0]) {
		return nil, false
	}
	for i, a := range argv[1:] {
		if a == self {
			return argv[:i+1], true
		}
	}
	return nil, false
}

func isLauncher(arg0 string) bool {
	switch filepath.Base(arg0) {
	case "mpirun", "mpiexec", "orterun", "prterun":
		return true
	}
	return false
}

// mpiLauncher is the command line of the MPI launcher that started this
// process, up to this program (launcherArgs), or nil. The launcher is
// looked for among the first ancestors in /proc, not only the parent:
// Open MPI 5 starts ranks through a daemon (prted) the launcher started.
func mpiLauncher() []string {
	pid := os.Getppid()
	for range 4 {
		if pid <= 1 {
			return nil
		}
		b, err := readSmallFile(fmt.Sprintf("/proc/%d/cmdline", pid), 1<<20)
		if err != nil || len(b) == 0 {
			return nil
		}
		argv := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		if isLauncher(argv[0]) {
			l, _ := launcherArgs(argv, os.Args[0])
			return l
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
