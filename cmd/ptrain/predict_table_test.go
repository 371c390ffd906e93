package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// A table's rows stream through its preprocessing (#21 with #25 item 4):
// a long input of rows whose columns come in another order than the
// training file's, with a category the training split did not have in
// many batches, is predicted row by row in bounded memory (read whole,
// its raw cells alone would be over the limit), and the category's
// warning is printed once, not once per batch.
func TestPredictTableStreamsThroughItsPreprocessing(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"t.csv": tableCSV(300, "id", "a", "b", "colour", "label")})
	mustRun(t, dir, "train", "-data", "csv:t.csv", "-label", "label", "-drop", "id", "-normalize", "zscore", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	// bytes of rows: 0.8 million rows, 2.4 million cells, whose string
	// headers alone (16 bytes each) would pass the limit if read whole
	const input = 8 << 20
	const limitMiB = 32 // 19-20 MiB measured through the launcher (rss_test.go)
	cmd, peak := measured(dir, "predict", "-model", "m.safetensors", "-input", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type result struct{ lines, purple int }
	done := make(chan result, 1)
	go func() {
		var r result
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.lines++
		}
		done <- r
	}()
	rows := 0
	var block bytes.Buffer
	for i := range 4096 {
		colour := []string{"red", "green", "blue"}[i%3]
		if i%1000 == 7 {
			colour = "purple" // in every batch of 256 rows or so
		}
		block.WriteString(colour + ",1.5,3.25\n")
	}
	if _, err := stdin.Write([]byte("colour,b,a\n")); err != nil {
		t.Fatal(err)
	}
	for written := 0; written < input; {
		n, err := stdin.Write(block.Bytes())
		written += n
		if err != nil {
			t.Fatalf("predict stopped reading after %d bytes: %v\n%s", written, err, errb.String())
		}
		rows += 4096
	}
	stdin.Close()
	r := <-done
	if err := cmd.Wait(); err != nil {
		t.Fatalf("predict: %v\n%s", err, errb.String())
	}
	if r.lines != rows+1 {
		t.Errorf("%d lines of predictions for %d rows", r.lines, rows)
	}
	if n := strings.Count(errb.String(), `"purple"`); n != 1 || !strings.Contains(errb.String(), `column "colour"`) {
		t.Errorf("the unseen category's warning printed %d times, want once:\n%.2000s", n, errb.String())
	}
	if rss := peak(t); rss > limitMiB {
		t.Errorf("peak RSS %.0f MiB for %d MiB of input, want at most %d", rss, input>>20, limitMiB)
	} else {
		t.Logf("peak RSS %.0f MiB for %d MiB of input", rss, input>>20)
	}
}

// A table's model given IDX images, or a headerless file of another
// width, is refused with what it takes.
func TestPredictTableRefusesOtherInput(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"t.csv":    tableCSV(100, "a", "b", "colour", "label"),
		"bare.csv": "1.5,red\n2.5,blue\n",
	})
	mustRun(t, dir, "train", "-data", "csv:t.csv", "-label", "label", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	idx := "\x00\x00\x08\x01\x00\x00\x00\x01\x07"
	for _, tc := range []struct{ name, input, stdin, want string }{
		{"idx", "-", idx, "stdin: IDX images, but m.safetensors is a model of a CSV table: give its rows as CSV"},
		{"width", "bare.csv", "", "bare.csv: 2 columns per row, the model was trained on 3 columns"},
	} {
		_, errs, code := run2(t, dir, nil, tc.stdin, "predict", "-model", "m.safetensors", "-input", tc.input, "-csv-header=false")
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and %q", tc.name, code, errs, tc.want)
		}
	}
}
