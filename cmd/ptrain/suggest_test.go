package main

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestSuggestFlag(t *testing.T) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	c := defaultConfig()
	trainFlags(fs, &c)
	for _, tc := range []struct{ typed, want string }{
		{"epoch", "epochs"},
		{"optimiser", "optimizer"},
		{"learning-rate", ""},
		{"bach", "batch"},
		{"metric", "metrics"},
		{"x", ""},
	} {
		if got := suggestFlag(fs, tc.typed); got != tc.want {
			t.Errorf("-%s: suggested %q, want %q", tc.typed, got, tc.want)
		}
	}
}

func TestUnknownFlagSuggestsTheNearestOne(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"train", "-epoch", "3"}, nil, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "did you mean -epochs?") {
		t.Errorf("train -epoch 3: exit %d, stderr %q", code, stderr.String())
	}
}

// A -batch larger than the training split is accepted (one step an
// epoch) with a warning.
func TestBatchLargerThanTheTrainingSplitWarns(t *testing.T) {
	dir := t.TempDir()
	_, errs, code := ptrain(t, dir, "train", "-data", "synthetic:xor:100", "-batch", "500", "-epochs", "1", "-quiet")
	if code != 0 || !strings.Contains(errs, "-batch 500 is larger than the 72 training samples") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
