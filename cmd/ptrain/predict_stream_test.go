package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

// predict reads stdin as a stream: an endless input of good rows is
// predicted row by row in bounded memory (the input's bytes alone, held
// whole beside the process's base, would pass the limit), and SIGINT ends
// it at once with predict's own message, not training's promise of a
// checkpoint.
func TestPredictEndlessStdinBoundedMemoryAndSIGINT(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	const input = 24 << 20 // bytes written before the interrupt; 24 MiB + the base > limitMiB
	const limitMiB = 32    // 19-20 MiB measured through the launcher (rss_test.go)
	cmd, rss := measured(dir, "predict", "-model", "m.safetensors", "-input", "-", "-csv-header=false")
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
	lines := make(chan int, 1)
	go func() {
		n := 0
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			n++
		}
		lines <- n
	}()
	row := []byte(strings.Repeat("3,", 63) + "3\n")
	block := bytes.Repeat(row, 4096)
	written := 0
	for written < input {
		n, err := stdin.Write(block)
		written += n
		if err != nil {
			t.Fatalf("predict stopped reading after %d bytes: %v\n%s", written, err, errb.String())
		}
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	go func() { _, _ = io.Copy(stdin, neverEnding(row)) }() // the input does not end
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("predict did not exit within 10 s of SIGINT; stderr:\n%s", errb.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d after SIGINT, want 130", code)
	}
	if s := errb.String(); !strings.Contains(s, "ptrain predict: interrupted") || strings.Contains(s, "checkpoint") {
		t.Errorf("stderr after SIGINT: %q, want predict's own message", s)
	}
	if n := <-lines; n < 1000 {
		t.Errorf("%d lines of predictions for %d MiB of rows: predict did not stream", n, input>>20)
	}
	if rss := rss(t); rss > limitMiB {
		t.Errorf("peak RSS %.0f MiB for %d MiB of input, want at most %d", rss, input>>20, limitMiB)
	} else {
		t.Logf("peak RSS %.0f MiB for %d MiB of input", rss, input>>20)
	}
}

// neverEnding repeats b forever.
type neverEnding []byte

func (b neverEnding) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], b)
	}
	return n, nil
}

// Binary data on stdin is refused at its first NUL byte, not read on in
// search of a line break; an IDX stream that is not one fails at its
// header.
func TestPredictRefusesBinaryStdinEarly(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	for _, tc := range []struct{ name, in, want string }{
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + strings.Repeat("\x01", 1<<20), "stdin: byte 8: a NUL byte: binary data, not a text table"},
		{"zeros", strings.Repeat("\x00", 1<<20), "stdin: byte 2: IDX element type 0x00 is not supported"},
	} {
		_, errs, code := run2(t, dir, nil, tc.in, "predict", "-model", "m.safetensors", "-input", "-")
		if code != 1 || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s on stdin: exit %d, stderr %q; want exit 1 and one line with %q", tc.name, code, errs, tc.want)
		}
	}
}
