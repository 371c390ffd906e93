package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestRandomInterruptsResumeBitForBit sends SIGINT or SIGTERM to training
// at random moments; whatever the moment, resuming from the checkpoint
// must end with the uninterrupted run's weights and optimizer state, bit
// for bit. CI runs 4 interrupts; PTRAIN_INTERRUPTS=30 runs more. The
// moments come from a seed the test logs; PTRAIN_INTERRUPT_SEED=S draws
// them again (as nearly as the machine's speed allows: a moment is a time
// into a run of the measured length).
func TestRandomInterruptsResumeBitForBit(t *testing.T) {
	n := 4
	if v, err := strconv.Atoi(os.Getenv("PTRAIN_INTERRUPTS")); err == nil {
		n = v
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PTRAIN_INTERRUPT_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PTRAIN_INTERRUPT_SEED=%q: want an unsigned integer", v)
		}
		seed = s
	}
	t.Logf("interrupt moments drawn with PTRAIN_INTERRUPT_SEED=%d", seed)
	dir := t.TempDir()
	common := []string{"-epochs", "6", "-batch", "8", "-workers", "2", "-dropout", "0.2", "-optimizer", "adam", "-schedule", "cosine", "-quiet"}
	start := time.Now()
	mustSpawn(t, dir, append([]string{"train", "-out", "whole.safetensors"}, common...)...)
	whole := tensors(t, filepath.Join(dir, "whole.safetensors"))
	span := time.Since(start)
	rng := rand.New(rand.NewPCG(seed, 1))
	interrupted := 0
	for i := range n {
		out := fmt.Sprintf("cut%d.safetensors", i)
		cmd := exec.Command(binary, append([]string{"train", "-out", out}, common...)...)
		cmd.Dir = dir
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Not in the first 50 ms: a signal that arrives before the Go
		// runtime has installed its handlers kills any process.
		wait := 50*time.Millisecond + time.Duration(rng.Int64N(int64(span)))
		sig := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}[rng.IntN(2)]
		time.Sleep(wait)
		_ = cmd.Process.Signal(sig)
		err := cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		switch {
		case code == 130:
			interrupted++
			if _, err := os.Stat(filepath.Join(dir, out)); err != nil {
				continue // interrupted before the first checkpoint: nothing to resume
			}
			mustRun(t, dir, append([]string{"train", "-resume", out, "-out", out}, common...)...)
		case isKilledBy(cmd.ProcessState, sig) && fileExists(filepath.Join(dir, out)):
			// The signal came as the run exited, its handlers gone (a
			// -cover build writes its coverage then): its last checkpoint,
			// compared below, must be the whole run's.
			t.Logf("%v after %v: the run was ending; killed", sig, wait)
		case err != nil:
			t.Fatalf("%v after %v: exit %d: %s", sig, wait, code, errb.String())
		}
		got := tensors(t, filepath.Join(dir, out))
		for _, name := range whole.Names() {
			if a, b := whole.Tensor(name), got.Tensor(name); b == nil || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("%v after %v (exit %d): %s differs from the uninterrupted run", sig, wait, code, name)
			}
		}
	}
	t.Logf("%d of %d runs interrupted, all resumed bit for bit", interrupted, n)
}

// isKilledBy says whether the process ended by signal sig.
func isKilledBy(ps *os.ProcessState, sig syscall.Signal) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
