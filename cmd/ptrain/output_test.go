package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ptrain/ptrain/model/safetensors"
)

// Every output path is checked before training starts: a bad one is a
// usage error before the first epoch, not a failure after it (or, for
// -plot, after the whole run).
func TestOutputsAreCheckedBeforeTraining(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("mkfifo", filepath.Join(dir, "fifo")).Run(); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-out", "no/such/dir/m.safetensors"}, "-out no/such/dir/m.safetensors: directory no/such/dir"},
		{[]string{"-out", "adir"}, "-out adir: is a directory"},
		{[]string{"-plot", "curves.gif"}, "-plot curves.gif: want a .png or .svg file"},
		{[]string{"-plot", "no/such/curves.png"}, "-plot no/such/curves.png: directory no/such"},
		{[]string{"-metrics", "m.txt"}, "-metrics m.txt: want a .csv or .jsonl"},
		{[]string{"-metrics", "adir/"}, "-metrics adir/"},
		{[]string{"-out", "x.png", "-plot", "x.png"}, "-out and -plot are the same file"},
		{[]string{"-out", "m.csv", "-metrics", "m.csv"}, "-out and -metrics are the same file"},
		{[]string{"-out", "fifo"}, "-out fifo: not a regular file"}, // as /dev/null: never renamed over
	} {
		args := append([]string{"train", "-epochs", "3"}, tc.args...)
		out, errs, code := ptrain(t, dir, args...)
		if code != 2 || !strings.Contains(errs, tc.want) || strings.Contains(out, "epoch 1/") {
			t.Errorf("ptrain %s: exit %d, stderr %q, stdout %q; want exit 2 with %q before any epoch", strings.Join(args, " "), code, errs, out, tc.want)
		}
	}
}

func readRows(t *testing.T, path string) []epochRow {
	t.Helper()
	rows, err := readMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// A resumed run continues the metrics file: the epochs before the
// checkpoint stay, those past it (written after the checkpoint, by a run
// that then died) go, and the new ones follow.
func TestResumeContinuesTheMetricsHistory(t *testing.T) {
	// Trained once, copied into each case's directory: a metrics file of
	// 3 epochs in each format, and a checkpoint of the same run at epoch 2.
	src := t.TempDir()
	for _, ext := range []string{".csv", ".jsonl"} {
		mustRun(t, src, "train", "-epochs", "3", "-quiet", "-out", "three.safetensors", "-overwrite", "-metrics", "m"+ext)
	}
	mustRun(t, src, "train", "-epochs", "2", "-quiet", "-out", "two.safetensors", "-metrics", "other.csv")
	for i, ext := range []string{".csv", ".jsonl", ".csv", ".jsonl"} {
		dir := t.TempDir()
		m := "m" + ext
		for _, f := range []string{m, "two.safetensors"} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			writeFiles(t, dir, map[string]string{f: string(b)})
		}
		if i >= 2 { // the history comes from the file, not the checkpoint
			dropHistory(t, filepath.Join(dir, "two.safetensors"))
		}
		// m holds epochs 1-3; the checkpoint is at epoch 2: epoch 3 goes.
		first := readRows(t, filepath.Join(dir, m))
		mustRun(t, dir, "train", "-resume", "two.safetensors", "-epochs", "5", "-quiet", "-metrics", m, "-plot", "p.svg")
		rows := readRows(t, filepath.Join(dir, m))
		var epochs []int
		for _, r := range rows {
			epochs = append(epochs, r.Epoch)
		}
		if fmt.Sprint(epochs) != "[1 2 3 4 5]" {
			t.Fatalf("%s: epochs %v after resuming at 2 up to 5", m, epochs)
		}
		if *rows[0].TrainLoss != *first[0].TrainLoss || *rows[1].TrainLoss != *first[1].TrainLoss {
			t.Fatalf("%s: the first epochs' rows changed", m)
		}
		if rows[2].ElapsedS < rows[1].ElapsedS {
			t.Fatalf("%s: elapsed_s went back from %g to %g", m, rows[1].ElapsedS, rows[2].ElapsedS)
		}
		svg, _ := os.ReadFile(filepath.Join(dir, "p.svg"))
		if !strings.Contains(string(svg), "<svg") {
			t.Fatalf("no plot")
		}
	}
	// Without -metrics, the checkpoint keeps the history: a resumed run's
	// new -metrics file and plot still start at epoch 1.
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "2", "-quiet", "-out", "c.safetensors")
	mustRun(t, dir, "train", "-resume", "c.safetensors", "-epochs", "3", "-quiet", "-metrics", "new.jsonl")
	if rows := readRows(t, filepath.Join(dir, "new.jsonl")); len(rows) != 3 || rows[0].Epoch != 1 {
		t.Fatalf("a new -metrics file after resuming at 2 up to 3: %+v", rows)
	}
	var hist []epochRow
	if err := json.Unmarshal([]byte(tensors(t, filepath.Join(dir, "c.safetensors")).Metadata[metaHistory]), &hist); err != nil || len(hist) != 3 {
		t.Fatalf("the checkpoint's history: %v, %+v", err, hist)
	}

	// A file ptrain cannot read is refused, not overwritten (a checkpoint
	// from before ptrain.history has only the file to go on).
	dir = t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "c.safetensors")
	dropHistory(t, filepath.Join(dir, "c.safetensors"))
	_ = os.WriteFile(filepath.Join(dir, "notes.csv"), []byte("my,own\nnotes,here\n"), 0o644)
	_, errs, code := ptrain(t, dir, "train", "-resume", "c.safetensors", "-epochs", "2", "-metrics", "notes.csv")
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.csv")); code == 0 || !strings.Contains(errs, "notes.csv") || string(b) != "my,own\nnotes,here\n" {
		t.Fatalf("resume over a foreign metrics file: exit %d, %s, file now %q", code, errs, b)
	}
}

// startTraining starts a long run in dir and returns once it has finished
// its first epoch.
func startTraining(t *testing.T, dir string, args ...string) (*exec.Cmd, io.ReadCloser) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"train", "-epochs", "100000", "-batch", "16"}, args...)...)
	cmd.Dir = dir
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "epoch 1/") {
			go io.Copy(io.Discard, stdout)
			return cmd, stderr
		}
	}
	t.Fatal("the run ended before its first epoch")
	return nil, nil
}

// Two runs on the same output: the second refuses at once, naming the
// file and the first run's pid; the first is unharmed.
func TestSecondRunOnTheSameOutputRefuses(t *testing.T) {
	dir := t.TempDir()
	first, stderr := startTraining(t, dir, "-out", "m.safetensors", "-metrics", "m.jsonl")
	go io.Copy(io.Discard, stderr)
	for _, args := range [][]string{
		{"train", "-epochs", "1", "-out", "m.safetensors"},
		{"train", "-epochs", "1", "-out", "other.safetensors", "-metrics", "m.jsonl"},
	} {
		start := time.Now()
		_, errs, code := ptrain(t, dir, args...)
		pid := fmt.Sprintf("pid %d", first.Process.Pid)
		if code == 0 || !strings.Contains(errs, "in use by another ptrain run") || !strings.Contains(errs, pid) || time.Since(start) > 10*time.Second {
			t.Errorf("ptrain %s while pid %d trains: exit %d, %q", strings.Join(args, " "), first.Process.Pid, code, errs)
		}
	}
	_ = first.Process.Signal(syscall.SIGINT)
	if err := first.Wait(); err == nil || first.ProcessState.ExitCode() != 130 {
		t.Fatalf("first run after SIGINT: %v", err)
	}
	// Its lock is gone with it.
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	if _, err := os.Stat(filepath.Join(dir, ".m.safetensors.lock")); !os.IsNotExist(err) {
		t.Errorf("lock file left behind: %v", err)
	}
}

// Temporary files that a killed run left beside an output are removed by
// the next run that writes it, which says so; others' files stay.
func TestStaleTemporaryFilesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	stale := []string{".m.safetensors.tmp123456", ".m.jsonl.tmp42"}
	keep := []string{".m.safetensors.tmpx", ".other.safetensors.tmp1", "m.safetensors.tmp1"}
	for _, n := range append(stale, keep...) {
		_ = os.WriteFile(filepath.Join(dir, n), []byte("partial"), 0o644)
	}
	_, errs, code := ptrain(t, dir, "train", "-epochs", "1", "-out", "m.safetensors", "-metrics", "m.jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s is still there", n)
		}
		if !strings.Contains(errs, n) {
			t.Errorf("stderr does not name %s:\n%s", n, errs)
		}
	}
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed: %v", n, err)
		}
	}
}

// A second interrupt during a write removes the temporary file: the
// in-process part of it (the signal path calls removeTemps, then exits).
func TestRemoveTempsDuringAWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	started, block, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- writeFileAtomic(path, func(w io.Writer) error {
			_, _ = w.Write([]byte("half a checkpoint"))
			close(started)
			<-block
			return nil
		})
	}()
	<-started
	tmps, _ := filepath.Glob(filepath.Join(dir, ".m.safetensors.tmp*"))
	if len(tmps) != 1 {
		t.Fatalf("temporary files during the write: %v", tmps)
	}
	removeTemps()
	tmps, _ = filepath.Glob(filepath.Join(dir, ".m.safetensors.tmp*"))
	temps.Unlock() // removeTemps holds it for the exit that follows it
	close(block)
	<-done
	if len(tmps) != 0 {
		t.Fatalf("left after removeTemps: %v", tmps)
	}
}

// -plot and predict -output are written whole: check that what is there
// after a run parses, and that -json's metrics agree with the file.
func TestMetricsFileMatchesJSON(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, dir, "train", "-epochs", "2", "-json", "-quiet", "-metrics", "m.jsonl")
	rows := readRows(t, filepath.Join(dir, "m.jsonl"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, r := range rows {
		var e epochRow
		if err := json.Unmarshal([]byte(lines[i]), &e); err != nil || e.Epoch != r.Epoch || *e.TrainLoss != *r.TrainLoss {
			t.Fatalf("row %d: file %+v, -json %s", i, r, lines[i])
		}
	}
}

// A second interrupt while the checkpoint is being written quits at once
// and leaves no temporary file; the previous checkpoint, if any, stays.
// An attempt whose write ended before the second interrupt came (the
// checkpoint is in place) proves nothing, and is made again.
func TestSecondInterruptDuringAWriteLeavesNoTemporaryFile(t *testing.T) {
	for attempt := 1; ; attempt++ {
		if secondInterruptMidWrite(t, t.TempDir()) {
			return
		}
		t.Logf("attempt %d: the write ended before the second interrupt", attempt)
		if attempt == 3 {
			t.Skip("the checkpoint's write ended before the second interrupt, 3 times")
		}
	}
}

// secondInterruptMidWrite interrupts a run in dir while it writes its
// checkpoint (midWrite), and checks that it exits 130 leaving no file of
// the write behind. It reports whether the second interrupt came before
// the write had ended.
func secondInterruptMidWrite(t *testing.T, dir string) bool {
	t.Helper()
	w := midWrite(t, dir)
	_ = w.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after the second SIGINT")
	}
	if code := w.cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, w.stderr.String())
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".big.safetensors.*")); len(tmps) > 0 {
		t.Fatalf("left behind: %v\n%s", tmps, w.stderr.String())
	}
	_, err := os.Stat(filepath.Join(dir, "big.safetensors"))
	return w.tmp != "" && err != nil
}

// writing is a training run caught writing its checkpoint, big.safetensors:
// tmp is the write's temporary file, or "" if the whole write came and
// went between two looks; done receives the run's exit.
type writing struct {
	cmd    *exec.Cmd
	done   chan error
	stderr *strings.Builder
	tmp    string
}

// midWrite starts a training run in dir, interrupts it once it has its
// signal handlers, and returns as soon as the checkpoint that the
// interrupt makes it write is on its way (or already written).
func midWrite(t *testing.T, dir string) writing {
	t.Helper()
	// 4.3 M parameters and Adam's state: a 52 MB checkpoint, long enough
	// to write that the test sees its temporary file.
	w := writing{done: make(chan error, 1), stderr: &strings.Builder{}}
	w.cmd = exec.Command(binary, "train", "-arch", "64-2048:relu-2048:relu-10:softmax", "-epochs", "1000", "-batch", "8", "-quiet", "-out", "big.safetensors")
	w.cmd.Dir = dir
	w.cmd.Stderr = w.stderr
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.cmd.Process.Kill() })
	go func() { w.done <- w.cmd.Wait() }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			select {
			case err := <-w.done:
				t.Fatalf("exited before %s: %v\n%s", what, err, w.stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 30 s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// The lock file appears once the run has its signal handlers and has
	// checked its outputs (the empty probe of -out is gone): from then on,
	// an interrupt makes it write a checkpoint.
	waitFor("its lock file", func() bool {
		_, err := os.Stat(lockName(filepath.Join(dir, "big.safetensors")))
		return err == nil
	})
	_ = w.cmd.Process.Signal(syscall.SIGINT)
	waitFor("a checkpoint write", func() bool {
		if tmps, _ := filepath.Glob(filepath.Join(dir, ".big.safetensors.tmp*")); len(tmps) > 0 {
			if fi, err := os.Stat(tmps[0]); err == nil && fi.Size() > 0 {
				w.tmp = tmps[0]
				return true
			}
		}
		_, err := os.Stat(filepath.Join(dir, "big.safetensors"))
		return err == nil
	})
	return w
}

// dropHistory makes path a checkpoint as written before ptrain.history.
func dropHistory(t *testing.T, path string) {
	t.Helper()
	f := tensors(t, path)
	delete(f.Metadata, metaHistory)
	var b strings.Builder
	if err := safetensors.Write(&b, f.Tensors, f.Metadata); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// predict -output is written whole or not at all: a failure leaves the
// previous file as it was, and no temporary file.
func TestPredictOutputIsAtomic(t *testing.T) {
	dir := t.TempDir()
	var rows strings.Builder
	for i := range 40 {
		fmt.Fprintf(&rows, "%d,%d,%d\n", i%7, i%5, i%2)
	}
	_ = os.WriteFile(filepath.Join(dir, "t.csv"), []byte(rows.String()), 0o644)
	// No feature transform, and IDX images rather than CSV rows (whose
	// width predict checks as it reads them): the width is found wrong only
	// while writing.
	mustRun(t, dir, "train", "-data", "csv:t.csv", "-csv-header=false", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	// One 1x3 image of unsigned bytes; the model takes 2 features.
	_ = os.WriteFile(filepath.Join(dir, "wide.idx"), []byte{0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3}, 0o644)
	_ = os.WriteFile(filepath.Join(dir, "narrow.csv"), []byte("1,2,3,4\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "out.csv"), []byte("yesterday's predictions\n"), 0o644)
	_, errs, code := ptrain(t, dir, "predict", "-model", "m.safetensors", "-input", "wide.idx", "-output", "out.csv")
	b, _ := os.ReadFile(filepath.Join(dir, "out.csv"))
	tmps, _ := filepath.Glob(filepath.Join(dir, ".out.csv.tmp*"))
	if code == 0 || string(b) != "yesterday's predictions\n" || len(tmps) > 0 {
		t.Fatalf("failed predict: exit %d (%s), out.csv now %q, temporary files %v", code, errs, b, tmps)
	}
	_, errs, code = ptrain(t, dir, "predict", "-model", "m.safetensors", "-input", "narrow.csv", "-output", "no/such/out.csv")
	if code != 2 || !strings.Contains(errs, "-output no/such/out.csv") {
		t.Fatalf("predict -output into a missing directory: exit %d, %s", code, errs)
	}
}

// A run killed (SIGKILL) mid-write leaves its temporary file and its lock
// file; the next run on that output is not blocked by the lock, removes
// the temporary file and says so. (The write is the one an interrupt
// asks for: the same code as an epoch's, without an epoch's training.)
func TestSIGKILLMidWriteIsCleanedUpByTheNextRun(t *testing.T) {
	var dir, tmp string
	for attempt := 1; tmp == ""; attempt++ {
		dir = t.TempDir()
		w := midWrite(t, dir)
		_ = w.cmd.Process.Kill()
		<-w.done
		if _, err := os.Stat(w.tmp); w.tmp != "" && err == nil {
			tmp = w.tmp
		} else if attempt == 3 {
			t.Skip("the checkpoint's write ended before the kill, 3 times")
		}
	}
	_, errs, code := ptrain(t, dir, "train", "-epochs", "1", "-out", "big.safetensors")
	if code != 0 || !strings.Contains(errs, filepath.Base(tmp)) {
		t.Fatalf("the next run: exit %d, stderr %q; want it to name %s", code, errs, tmp)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".big.safetensors.*")); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}
