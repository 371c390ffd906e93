package main

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A run interrupted by SIGINT at a random moment (mid-epoch, usually) and
// resumed writes the -metrics rows of the uninterrupted run: every column
// but the timings (samples_per_sec, epoch_s, elapsed_s).
func TestResumedMetricsEqualUninterrupted(t *testing.T) {
	dir := t.TempDir()
	common := []string{"-epochs", "8", "-batch", "8", "-workers", "2", "-optimizer", "adam", "-quiet"}
	start := time.Now()
	mustSpawn(t, dir, append([]string{"train", "-out", "whole.safetensors", "-metrics", "whole.csv"}, common...)...)
	span := time.Since(start)
	cmd := exec.Command(binary, append([]string{"train", "-out", "cut.safetensors", "-metrics", "cut.csv"}, common...)...)
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// After the first epoch's checkpoint, before the end; not in the first
	// 50 ms, before the Go runtime handles signals.
	time.Sleep(50*time.Millisecond + span/5 + time.Duration(rand.Int64N(int64(span/2))))
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Skipf("the run ended (exit %d) before the interrupt: %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "cut.safetensors")); err != nil {
		t.Skip("interrupted before the first checkpoint")
	}
	mustRun(t, dir, append([]string{"train", "-resume", "cut.safetensors", "-out", "cut.safetensors", "-metrics", "cut.csv"}, common...)...)
	want, got := metricsRows(t, filepath.Join(dir, "whole.csv")), metricsRows(t, filepath.Join(dir, "cut.csv"))
	if !slices.Equal(got, want) {
		t.Errorf("%s\nresumed -metrics:\n%s\nuninterrupted:\n%s", strings.TrimSpace(errb.String()), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// metricsRows are a CSV -metrics file's rows without the timing columns.
func metricsRows(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		var keep []string
		for j, v := range r {
			if h := recs[0][j]; h != "samples_per_sec" && h != "epoch_s" && h != "elapsed_s" {
				keep = append(keep, v)
			}
		}
		out = append(out, strings.Join(keep, ","))
	}
	return out
}
