package main

import (
	"bytes"
	"strings"
	"testing"
)

// The run banner counts epochs in English.
func TestEpochCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 epochs", 1: "1 epoch", 2: "2 epochs", 30: "30 epochs"} {
		if got := epochCount(n); got != want {
			t.Errorf("epochCount(%d) = %q, want %q", n, got, want)
		}
	}
}

// ptrain info -h lists its flag, as the other commands' -h do; the
// top-level usage says predict reads image files too.
func TestHelpTexts(t *testing.T) {
	var stdout, stderr bytes.Buffer
	run([]string{"info", "-h"}, nil, &stdout, &stderr) // -h prints to stdout
	if h := stdout.String(); !strings.Contains(h, "Flags:") || !strings.Contains(h, "-json") {
		t.Errorf("info -h:\n%s", h)
	}
	if !strings.Contains(usage, "IDX images, or image files") {
		t.Errorf("usage does not say predict reads image files:\n%s", usage)
	}
}
