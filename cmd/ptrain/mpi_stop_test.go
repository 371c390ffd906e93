//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the binary under Open MPI's mpirun, 2 ranks; they need a
// binary built with -tags mpi (PTRAIN_E2E_TAGS=mpi, as .ci/run gives) and
// skip otherwise.

// mpiJob is a 2-rank training job started by mpirun in dir, 2 ranks, with
// the flags a root container needs (which the resume command must keep).
type mpiJob struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}
}

var mpiLauncherFlags = []string{"--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "2"}

func startMPI(t *testing.T, dir string) *mpiJob {
	t.Helper()
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("no mpirun")
	}
	if out, _, _ := spawn(t, dir, nil, "", "version"); !strings.Contains(out, "MPI: yes") { // the binary, not this process
		t.Skip("the binary is built without -tags mpi (PTRAIN_E2E_TAGS=mpi builds it with)")
	}
	args := append(slices.Clone(mpiLauncherFlags), binary, "train", "-epochs", "500", "-workers", "1", "-out", "m.safetensors")
	j := &mpiJob{cmd: exec.Command("mpirun", args...), done: make(chan struct{})}
	j.cmd.Dir, j.cmd.Stderr = dir, &j.stderr
	if err := j.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = j.cmd.Wait(); close(j.done) }()
	t.Cleanup(func() {
		select {
		case <-j.done:
		default:
			_ = j.cmd.Process.Kill()
			<-j.done
		}
	})
	// Signals wait for the first checkpoint: the job is training.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "m.safetensors")); err == nil {
			break
		}
		if time.Now().After(deadline) || j.exited() {
			t.Fatalf("no checkpoint within 60 s: %s", j.stderr.String())
		}
	}
	return j
}

func (j *mpiJob) exited() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// wait waits for mpirun and returns its exit status.
func (j *mpiJob) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-j.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("mpirun did not end within 60 s of the signal: %s", j.stderr.String())
	}
	return j.cmd.ProcessState.ExitCode()
}

// rank is the pid of mpirun's child that is rank r.
func (j *mpiJob) rank(t *testing.T, r int) int {
	t.Helper()
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(j.cmd.Process.Pid)).Output()
	for _, f := range strings.Fields(string(out)) {
		env, _ := os.ReadFile("/proc/" + f + "/environ")
		if slices.Contains(strings.Split(string(env), "\x00"), fmt.Sprintf("OMPI_COMM_WORLD_RANK=%d", r)) {
			pid, _ := strconv.Atoi(f)
			return pid
		}
	}
	t.Fatalf("no rank %d among mpirun's children %q", r, out)
	return 0
}

// checkpointAt checks that dir's m.safetensors loads and is at epoch
// epoch (completed) and step batch of the next.
func checkpointAt(t *testing.T, dir string, epoch, batch int) {
	t.Helper()
	out := mustRun(t, dir, "info", "-json", "m.safetensors")
	var info struct {
		Progress struct{ Epoch, Batch int }
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	if info.Progress.Epoch != epoch || info.Progress.Batch != batch {
		t.Errorf("the checkpoint is at epoch %d, step %d; want %d, %d", info.Progress.Epoch, info.Progress.Batch, epoch, batch)
	}
}

var interruptedAt = regexp.MustCompile(`ptrain: interrupted at epoch (\d+), step (\d+) of it; checkpoint written to m.safetensors\nresume with: (.*)\n`)

var lastWritten = regexp.MustCompile(`the last one written is m\.safetensors \(after epoch (\d+)\)`)

// interrupted checks rank 0's report of an interrupt and the checkpoint
// it names.
func interrupted(t *testing.T, dir, stderr string) {
	t.Helper()
	m := interruptedAt.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no interrupt report: %s", stderr)
	}
	epoch, _ := strconv.Atoi(m[1])
	batch, _ := strconv.Atoi(m[2])
	checkpointAt(t, dir, epoch-1, batch)
	if want := "mpirun " + strings.Join(mpiLauncherFlags, " ") + " "; !strings.HasPrefix(m[3], want) || !strings.HasSuffix(m[3], " train -resume m.safetensors") {
		t.Errorf("resume with: %s\nwant the launcher's flags: %s… train -resume m.safetensors", m[3], want)
	}
}

// Ctrl-C on mpirun (SIGINT): the ranks finish their step, and rank 0
// writes the checkpoint and the resume command with the launcher's
// flags. mpirun itself exits 1: Open MPI 4.1 records status 1 when the
// signal arrives, before any rank has ended (see the README). (That the
// ranks then exit 130, not by the SIGKILL that follows mpirun's SIGTERM
// by a second, mpirun does not report; see interruptedExit.)
func TestMPIInterruptOnMpirun(t *testing.T) {
	dir := t.TempDir()
	j := startMPI(t, dir)
	_ = j.cmd.Process.Signal(syscall.SIGINT)
	code := j.wait(t)
	if errs := j.stderr.String(); interruptedAt.FindStringSubmatch(errs) == nil {
		// mpirun SIGTERMs the ranks a second after the signal, and SIGKILLs
		// them a second later: on a loaded machine the step and the write may
		// not fit. Then nothing may be lost: rank 0 named the last checkpoint
		// written, and that file is intact at that epoch.
		m := lastWritten.FindStringSubmatch(errs)
		if m == nil {
			t.Fatalf("no interrupt report, and no last checkpoint named: %s", errs)
		}
		epoch, _ := strconv.Atoi(m[1])
		t.Logf("mpirun ended the ranks before the interrupted step's checkpoint; the last one written is epoch %d", epoch)
		checkpointAt(t, dir, epoch, 0)
	} else {
		interrupted(t, dir, errs)
	}
	if code != 1 {
		t.Errorf("mpirun exited %d after SIGINT: the README says 1 (Open MPI 4.1); update it if this Open MPI says otherwise", code)
	}
}

// SIGUSR1 on mpirun is forwarded to every rank, which stop as on Ctrl-C;
// then the ranks end the job, and mpirun exits with their status, 130.
func TestMPIStopWithSIGUSR1Exits130(t *testing.T) {
	dir := t.TempDir()
	j := startMPI(t, dir)
	_ = j.cmd.Process.Signal(syscall.SIGUSR1)
	if code := j.wait(t); code != 130 {
		t.Errorf("mpirun exited %d after SIGUSR1, want 130: %s", code, j.stderr.String())
	}
	interrupted(t, dir, j.stderr.String())
}

// After kill -9 of rank 1, rank 0 (which Open MPI then sends SIGTERM)
// promises no checkpoint: it names the last one written, and its epoch,
// as the one to resume from, and that file is intact at that epoch.
func TestMPIRankKilledNamesTheLastCheckpoint(t *testing.T) {
	dir := t.TempDir()
	j := startMPI(t, dir)
	if err := syscall.Kill(j.rank(t, 1), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := j.wait(t); code == 0 || code == 130 {
		t.Errorf("mpirun exited %d after a rank was killed", code)
	}
	errs := j.stderr.String()
	if strings.Contains(errs, "and writing a checkpoint") || strings.Contains(errs, "checkpoint written") {
		t.Errorf("rank 0 claims a checkpoint no rank can finish: %s", errs)
	}
	m := regexp.MustCompile(`the last one written is m\.safetensors \(after epoch (\d+)\), the one to resume from`).FindStringSubmatch(errs)
	if m == nil {
		t.Fatalf("rank 0 does not name the last checkpoint: %s", errs)
	}
	epoch, _ := strconv.Atoi(m[1])
	checkpointAt(t, dir, epoch, 0)
}
