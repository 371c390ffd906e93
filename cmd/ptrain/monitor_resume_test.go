package main

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ptrain/ptrain/model/safetensors"
)

// With -monitor on a run whose monitor warns in epoch 1 (a learning rate
// far too low), a run interrupted by SIGINT after epoch 1, 2 or 3 (at
// once, or up to half an epoch later) and resumed writes the -metrics rows
// of the uninterrupted run, the warnings column included: the resumed
// monitor raises nothing a second time. (A warning raised mid-epoch
// before the interruption is kept for its epoch's row as well: see
// package health's TestWatchStateResumesTheRunsDiagnosis, which cuts a
// run at every step.)
func TestResumedMonitorWarningsEqualUninterrupted(t *testing.T) {
	dir := t.TempDir()
	common := []string{"-epochs", "6", "-batch", "4", "-workers", "2", "-arch", "64-512:relu-10:softmax", "-optimizer", "sgd", "-lr", "1e-7", "-monitor", "-json"}
	start := time.Now()
	mustSpawn(t, dir, append([]string{"train", "-out", "whole.safetensors", "-metrics", "whole.csv"}, common...)...)
	epoch := time.Since(start) / 6
	want := metricsRows(t, filepath.Join(dir, "whole.csv"))
	if !strings.HasSuffix(want[1], ",update-ratio") || strings.Contains(strings.Join(want[2:], "\n"), "update-ratio") {
		t.Fatalf("want update-ratio in epoch 1's row and in no other: the test needs a run that warns\n%s", strings.Join(want, "\n"))
	}
	at := regexp.MustCompile(`interrupted at epoch (\d+), step (\d+) of it`)
	mid := 0
	for after := 1; after <= 3; after++ {
		name := "cut" + string(rune('0'+after))
		cmd := exec.Command(binary, append([]string{"train", "-out", name + ".safetensors", "-metrics", name + ".csv"}, common...)...)
		cmd.Dir = dir
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The interrupt follows the epoch's JSON line: in the checkpoint
		// written after it, or somewhere in the next epoch.
		sc, seen := bufio.NewScanner(out), 0
		for seen < after && sc.Scan() {
			if strings.HasPrefix(sc.Text(), `{"event":"epoch"`) {
				seen++
			}
		}
		time.Sleep(time.Duration(rand.Int64N(int64(epoch/2) + 1)))
		_ = cmd.Process.Signal(syscall.SIGINT)
		for sc.Scan() {
		}
		_ = cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 130 {
			t.Logf("after epoch %d: the run ended (exit %d) before the interrupt", after, code)
			continue
		}
		if m := at.FindStringSubmatch(errb.String()); m != nil && m[2] != "0" {
			mid++
		}
		t.Logf("after epoch %d: %s", after, at.FindString(errb.String()))
		if _, err := os.Stat(filepath.Join(dir, name+".safetensors")); err != nil {
			t.Fatalf("after epoch %d: no checkpoint: %s", after, errb.String())
		}
		mustRun(t, dir, append([]string{"train", "-resume", name + ".safetensors", "-out", name + ".safetensors", "-metrics", name + ".csv"}, common...)...)
		if got := metricsRows(t, filepath.Join(dir, name+".csv")); !slices.Equal(got, want) {
			t.Errorf("interrupted after epoch %d: %s\nresumed -metrics:\n%s\nuninterrupted:\n%s", after, at.FindString(errb.String()), strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if mid == 0 {
		t.Log("no interrupt landed inside an epoch this time (each resumed at an epoch's start)")
	}
}

// A checkpoint older than ptrain.health resumes with a monitor that starts
// afresh (and so warns again); a monitor state no run could reach is
// refused, naming the key.
func TestResumeWithoutOrWithBadHealthState(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-optimizer", "sgd", "-lr", "1e-7", "-quiet", "-out", "a.safetensors")
	b, err := os.ReadFile(filepath.Join(dir, "a.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if s := mustParse(bytes.Clone(b)).Metadata[metaHealth]; !strings.Contains(s, `"raised":["update-ratio"]`) {
		t.Fatalf("%s: %.200s, want update-ratio raised", metaHealth, s)
	}
	old := rewrite(t, b, func(f *safetensors.File) { delete(f.Metadata, metaHealth) })
	if err := os.WriteFile(filepath.Join(dir, "old.safetensors"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, "train", "-resume", "old.safetensors", "-epochs", "2", "-quiet", "-out", "old.safetensors", "-metrics", "old.csv")
	if rows := metricsRows(t, filepath.Join(dir, "old.csv")); len(rows) != 3 || !strings.HasSuffix(rows[2], ",update-ratio") {
		t.Errorf("resumed without a monitor state: want epoch 2 warned afresh, got\n%s", strings.Join(rows, "\n"))
	}
	bad := rewrite(t, b, func(f *safetensors.File) {
		f.Metadata[metaHealth] = strings.Replace(f.Metadata[metaHealth], `"raised":["update-ratio"]`, `"raised":["update-ratio","update-ratio"]`, 1)
	})
	if err := os.WriteFile(filepath.Join(dir, "bad.safetensors"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"train", "-resume", "bad.safetensors", "-epochs", "2", "-out", "c.safetensors"}, {"info", "bad.safetensors"}} {
		_, errs, code := ptrain(t, dir, args...)
		if code != 1 || !strings.Contains(errs, `metadata "ptrain.health": health state: raised "update-ratio": not a warning code, or twice`) {
			t.Errorf("%s: exit %d, %s", strings.Join(args, " "), code, errs)
		}
	}
}
