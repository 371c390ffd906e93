package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A gzip bomb (#25: a 0.9 MB .csv.gz of "0,0,0" rows expanding to 630 MB
// passed 5.4 GB RSS and kept growing) stops at the table's memory bound
// with an error that names the file, the line, the bound and the flag
// that raises it, at a bounded RSS. The bound is lowered to 8 MiB so that
// the test reads ~350,000 of the bomb's 5 million rows, not all of them
// (which the default bound lets through: 35 s of training on them). Peak
// RSS is measured through the launcher (rss_test.go).
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
	cmd, rss := measured(dir, "train", "-data", "csv:bomb.csv.gz", "-csv-header=false", "-csv-max-mib", "8", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	peak := rss(t)
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
	t.Logf("peak RSS %.0f MiB, %v, for a %d KiB bomb of %d MiB", peak, took.Round(time.Millisecond), gz.Len()>>10, 500*len(chunk)>>20)
	if peak > limitMiB {
		t.Errorf("peak RSS %.0f MiB with -csv-max-mib 8, want at most %d", peak, limitMiB)
	}
}
