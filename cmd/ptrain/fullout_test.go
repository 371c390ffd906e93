package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A checkpoint that cannot be written (here: a file size limit the
// checkpoint exceeds and the metrics file does not, as a disk that fills
// up) stops the run without a -metrics row for the epoch whose checkpoint
// is missing.
func TestNoMetricsRowWithoutItsCheckpoint(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("no prlimit (util-linux)")
	}
	dir := t.TempDir()
	cmd := exec.Command("prlimit", "--fsize=16384", binary, "train", "-epochs", "3", "-quiet", "-metrics", "m.csv", "-out", "ck.safetensors")
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	if err == nil {
		t.Fatal("the run succeeded under a 16 KB file size limit: the test cannot tell")
	}
	if _, serr := os.Stat(filepath.Join(dir, "ck.safetensors")); serr == nil {
		t.Fatal("the checkpoint was written under a 16 KB file size limit")
	}
	if b, rerr := os.ReadFile(filepath.Join(dir, "m.csv")); rerr == nil && strings.Count(string(b), "\n") > 1 {
		t.Errorf("-metrics has rows though no checkpoint exists (%v, %s):\n%s", err, errb.String(), b)
	}
}

// A stdout that cannot be written fails the run at the first epoch's
// event, not after the last epoch.
func TestUnwritableStdoutFailsAtTheFirstEpoch(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("/dev/full: %v", err)
	}
	defer full.Close()
	for _, args := range [][]string{{"-json"}, nil} {
		dir := t.TempDir()
		cmd := exec.Command(binary, append([]string{"train", "-epochs", "30", "-metrics", "m.csv"}, args...)...)
		cmd.Dir, cmd.Stdout = dir, full
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "epoch 1") || !strings.Contains(errb.String(), "no space left on device") {
			t.Errorf("train %v > /dev/full: %v, stderr %q; want exit 1 at epoch 1 naming the error", args, err, errb.String())
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "m.csv")); strings.Count(string(b), "\n") > 1 {
			t.Errorf("train %v > /dev/full went on training:\n%s", args, b)
		}
	}
}
