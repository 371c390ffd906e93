package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Peak memory is measured through a launcher: this test binary started
// afresh, which runs ptrain and reports its peak RSS on file descriptor
// 3. Measured directly, a child's peak would include this process's:
// Go starts children with vfork, sharing the parent's memory until exec,
// and Linux counts that memory's high-water mark in the child's.
const launcherEnv = "PTRAIN_TEST_RSS_LAUNCHER"

func init() {
	if os.Getenv(launcherEnv) == "" {
		return
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	// ptrain, when it is this test binary too, must not launch again.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, launcherEnv+"=") })
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(125)
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	_ = cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		fmt.Fprintf(os.NewFile(3, "rss"), "%d\n", ru.Maxrss)
	}
	os.Exit(cmd.ProcessState.ExitCode())
}

// measured is a command that runs ptrain with args in dir, through the
// launcher; after it has run, peak gives ptrain's peak RSS in MiB.
func measured(dir string, args ...string) (cmd *exec.Cmd, peak func(t *testing.T) float64) {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	cmd = exec.Command(os.Args[0], append([]string{binary}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), launcherEnv+"=1")
	cmd.ExtraFiles = []*os.File{w}
	return cmd, func(t *testing.T) float64 {
		t.Helper()
		w.Close()
		defer r.Close()
		var b [64]byte
		n, _ := r.Read(b[:])
		kib, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
		if err != nil {
			t.Skipf("no peak RSS from the launcher (%q): not measurable here", b[:n])
		}
		return float64(kib) / 1024 // ru_maxrss is in KiB on Linux
	}
}
