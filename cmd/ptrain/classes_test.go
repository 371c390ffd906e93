package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// classTable writes a CSV of n rows with a label column of k distinct
// string classes.
func classTable(t *testing.T, dir string, n, k int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("a,b,label\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,%d,c%d\n", i%7, i%3, i%k)
	}
	p := filepath.Join(dir, fmt.Sprintf("k%d.csv", k))
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A label column of more distinct values than maxClasses is refused when
// the data is loaded, naming the limit (in process: no run needed).
func TestTooManyClassesRefusedNamingTheLimit(t *testing.T) {
	p := classTable(t, t.TempDir(), maxClasses+1, maxClasses+1)
	c := defaultConfig()
	c.Data, c.Label = "csv:"+p, "label"
	want := fmt.Sprintf("%d distinct labels, more than the limit of %d classes", maxClasses+1, maxClasses)
	for _, raw := range []bool{false, true} { // raw: read for a table's preprocessing
		_, _, err := loadDataset(&c, nil, raw)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Fatalf("raw %v: %v, want the file and %q", raw, err, want)
		}
	}
}

// Training and evaluating 5,000 classes (a label column of near-unique
// values) stays small: no per-worker k×k confusion matrix (200 MB each;
// 3.2 GB for 20,000 classes), and eval says why it shows none.
func TestManyClassesTrainInBoundedMemory(t *testing.T) {
	dir := t.TempDir()
	const k = 5000
	p := classTable(t, dir, k, k)
	cmd, peak := measured(dir, "train", "-data", "csv:"+p, "-arch", fmt.Sprintf("2-%d:softmax", k), "-epochs", "1", "-batch", "1000", "-workers", "2", "-val", "0", "-quiet", "-out", "m.safetensors")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("train of %d classes: %v\n%s", k, err, out)
	}
	if rss := peak(t); rss > 200 {
		t.Errorf("train of %d classes: peak RSS %.0f MiB, want at most 200", k, rss)
	} else {
		t.Logf("train of %d classes: peak RSS %.0f MiB", k, rss)
	}
	if out := mustRun(t, dir, "eval", "-model", "m.safetensors"); !strings.Contains(out, fmt.Sprintf("(no confusion matrix: %d classes, more than 1024)", k)) {
		t.Errorf("eval of %d classes:\n%.2000s", k, out)
	}
}
