package main

import (
	"strings"
	"testing"
)

// info shows the optimizer as the run described it, with only the
// hyperparameters its method uses and the schedule it holds, and what the
// model trained on.
func TestInfoShowsOnlyTheOptimizersOwnSettings(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-optimizer", "momentum", "-schedule", "cosine:0.001", "-warmup", "3", "-epochs", "1", "-quiet")
	out := mustRun(t, dir, "info", "ptrain.safetensors")
	var opt, split string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "optimizer" {
			opt = line
		} else if len(f) > 0 && f[0] == "split" {
			split = line
		}
	}
	if !strings.Contains(opt, "momentum lr 0.01 momentum 0.9, schedule cosine:0.001 over 1 epoch of 21 steps, warm-up 3 steps") || strings.Contains(opt, "beta") || strings.Contains(opt, "alpha") {
		t.Errorf("info's optimizer line: %q; want momentum's settings alone", opt)
	}
	if !strings.Contains(split, "0.2 of 1797 rows held out for test, seed 20240601") {
		t.Errorf("info's split line: %q", split)
	}
}
