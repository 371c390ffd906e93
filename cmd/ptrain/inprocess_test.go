package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// Most tests run ptrain's commands in this process, through run as main
// does (its exit status returned): a command started as a process costs
// the process's start and the runtime's initialisation, and its coverage
// is lost. A test starts the binary (spawn, or exec.Command(binary, …))
// only where the process boundary is what it tests: signals, the exit
// status main gives the shell, MPI, lock files between processes, peak
// memory, a standard stream that is a file; and every command is started
// as a process at least once (TestCommandsAsProcesses). A command run
// in-process is this test binary's build: what needs the binary that
// PTRAIN_E2E_TAGS asks for (MPI) is started as that binary.

// ptrain runs ptrain args in this process in dir and returns stdout,
// stderr and the exit status.
func ptrain(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	return run2(t, dir, nil, "", args...)
}

// mustRun is ptrain for a command that must succeed: it returns stdout.
func mustRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, errs, code := ptrain(t, dir, args...)
	if code != 0 {
		t.Fatalf("ptrain %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// run2 is ptrain with environment variables env (NAME=VALUE, set for
// this command only) and stdin as its standard input.
func run2(t *testing.T, dir string, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return runIn(t, dir, env, strings.NewReader(stdin), args...)
}

// runIn runs ptrain args in this process, as main does, in dir with env
// set and stdin as its input, and returns stdout, stderr and the exit
// status. run's contract (one command at a time in a process, in its
// working directory) makes this a sequential test's tool: t.Chdir and
// t.Setenv refuse a test that runs in parallel, so no parallel test sees
// the directory or the environment change. The directory and the
// environment are restored when the command returns.
func runIn(t *testing.T, dir string, env []string, stdin io.Reader, args ...string) (string, string, int) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	defer os.Chdir(wd)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		old, had := os.LookupEnv(k)
		t.Setenv(k, v)
		defer func() {
			if had {
				os.Setenv(k, old)
			} else {
				os.Unsetenv(k)
			}
		}()
	}
	var out, errs lockedBuffer
	code := run(args, stdin, &out, &errs)
	return out.String(), errs.String(), code
}

// spawn is run2 with ptrain started as a process: the binary, in dir.
func spawn(t *testing.T, dir string, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writers of one
// command (its warnings may come from worker goroutines).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mustSpawn is spawn for a command that must succeed. The tests that
// signal a run at a moment drawn from a whole run's duration time that
// run with it: a process's, as long as the runs they interrupt (in this
// process, the first run's one-time costs made the moments late, and
// some runs ended before their signal).
func mustSpawn(t *testing.T, dir string, args ...string) {
	t.Helper()
	if out, errs, code := spawn(t, dir, nil, "", args...); code != 0 {
		t.Fatalf("ptrain %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
}

// run's stdin may be nil (the tests that read no input pass nil): it reads
// as empty, so predict -input - says the input is empty, as it does for
// </dev/null, rather than failing inside.
func TestInProcessNilStdinIsEmpty(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	t.Chdir(dir)
	var stderr bytes.Buffer
	code := run([]string{"predict", "-model", "m.safetensors", "-input", "-"}, nil, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "stdin: empty file") {
		t.Errorf("predict -input - with a nil stdin: exit %d, stderr %q; want exit 1 and %q", code, stderr.String(), "stdin: empty file")
	}
}
