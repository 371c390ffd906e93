package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/ptrain/ptrain/checkpoint"
)

// TestREADMEShowsThisProgram: the README's library example is this file,
// so it compiles whenever the repository does.
func TestREADMEShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(readme, -1)
	for _, b := range blocks {
		if string(b[1]) == string(src) {
			return
		}
	}
	t.Fatalf("no ```go block of the README is examples/digits/main.go (%d go blocks); copy the file into the README", len(blocks))
}

// TestRun runs the example, in a temporary directory.
func TestRun(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := run(); err != nil {
		t.Fatal(err)
	}
	c, err := checkpoint.Load[float32]("digits.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if c.Optimizer == nil || c.Progress.Epoch != 30 || len(c.Classes) != 10 {
		t.Fatalf("the checkpoint: optimizer %v, progress %+v, classes %v", c.Optimizer, c.Progress, c.Classes)
	}
}
