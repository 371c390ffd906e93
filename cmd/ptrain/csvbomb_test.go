package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hwmWhileRunning waits for the started cmd and returns its peak resident
// memory in MiB, read from VmHWM in /proc/PID/status every millisecond
// while it runs. A child's ru_maxrss is no use here: Go starts children
// with vfork, so the child's maxrss includes the parent's (this test
// process's) resident memory at the exec. The last sample may miss the
// final millisecond's growth; 0 means no sample was taken.
func hwmWhileRunning(t *testing.T, cmd *exec.Cmd) (float64, error) {
	t.Helper()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak float64
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return peak, err
		case <-tick.C:
			b, err := os.ReadFile(status)
			if err != nil {
				continue
			}
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
					if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
						peak = max(peak, kb/1024)
					}
				}
			}
		}
	}
}

// A gzip bomb (#25: a 0.9 MB .csv.gz of "0,0,0" rows expanding to 630 MB
// passed 5.4 GB RSS and kept growing) stops at the table's memory bound
// with an error that names the file, the line, the bound and the flag
// that raises it, at a bounded RSS. The bound is lowered to 8 MiB so that
// the test reads ~350,000 of the bomb's 5 million rows, not all of them
// (which the default bound lets through: 35 s of training on them). The
// whole process peaked at 37 MiB when this was written; 64 leaves room for
// a bigger binary and the bound's slice growth.
func TestGzipBombStopsAtTheTableBound(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	chunk := []byte(strings.Repeat("0,0,0\n", 10_000))
	for range 500 {
		zw.Write(chunk)
	}
	zw.Write([]byte("1,1,1\n"))
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "bomb.csv.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "train", "-data", "csv:bomb.csv.gz", "-csv-header=false", "-csv-max-mib", "8", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak, err := hwmWhileRunning(t, cmd)
	took := time.Since(start)
	errs := stderr.String()
	// 8 MiB / 24 bytes a row (two float64 features, a class, a line) is
	// 349,525 rows; the next, on line 349,526, passes the bound.
	want := "bomb.csv.gz: line 349526: the table's decoded rows pass their bound of 8 MiB at row 349526 (24 bytes a row"
	if err == nil || !strings.Contains(errs, want) || !strings.Contains(errs, "give -csv-max-mib a larger bound than 8") {
		t.Fatalf("exit %v, %q; want an error with %q and the flag", err, errs, want)
	}
	if _, serr := os.Stat(filepath.Join(dir, "m.safetensors")); serr == nil {
		t.Error("a checkpoint was written")
	}
	const limitMiB = 64
	t.Logf("peak RSS (VmHWM) %.0f MiB, %v, for a %d KiB bomb of %d MiB", peak, took.Round(time.Millisecond), gz.Len()>>10, 500*len(chunk)>>20)
	if peak > limitMiB {
		t.Errorf("peak RSS %.0f MiB with -csv-max-mib 8, want at most %d", peak, limitMiB)
	}
}
