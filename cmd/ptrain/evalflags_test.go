package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// eval refuses a negative -csv-skip as train and predict do, before it
// reads any file.
func TestEvalRefusesNegativeCSVSkip(t *testing.T) {
	err := cmdEval(context.Background(), []string{"-model", "none.safetensors", "-csv-skip", "-1"}, stdio{nil, io.Discard, io.Discard})
	var u errUsage
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "-csv-skip -1: must be ≥ 0") {
		t.Fatalf("eval -csv-skip -1: %v, want a usage error naming the flag", err)
	}
}
