package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No output may be one of the command's inputs, whatever name reaches it:
// the same path, a symbolic link or a hard link. Each case is refused as a
// usage error naming both flags, and the input is left as it was.
func TestOutputThatIsAnInputIsRefused(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	csv := "a,b,class\n0,0,x\n0,1,y\n1,0,y\n1,1,x\n0,0,x\n0,1,y\n1,0,y\n1,1,x\n0,0,x\n0,1,y\n"
	files := map[string]string{"victim.csv": csv, "rows.csv": "a,b\n0,1\n", "w.safetensors": "weights of another tool", "run.json": `{"epochs": 1}`}
	for name, body := range files {
		if err := os.WriteFile(p(name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(p("victim.csv"), p("link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(p("victim.csv"), p("hard.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p("mnist"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p("mnist/train-images-idx3-ubyte.gz"), []byte("images"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := "csv:" + p("victim.csv")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "-data", data, "-out", p("victim.csv")}, "-out " + p("victim.csv") + " is the same file as -data"},
		{[]string{"train", "-data", data, "-metrics", p("victim.csv")}, "-metrics " + p("victim.csv") + " is the same file as -data"},
		{[]string{"train", "-data", data, "-metrics", p("link.csv")}, "-metrics " + p("link.csv") + " is the same file as -data"},
		{[]string{"train", "-data", data, "-out", p("hard.csv")}, "-out " + p("hard.csv") + " is the same file as -data"},
		{[]string{"train", "-data", "csv:" + p("link.csv"), "-metrics", p("hard.csv")}, "is the same file as -data"},
		{[]string{"train", "-init", p("w.safetensors"), "-out", p("w.safetensors")}, "-out " + p("w.safetensors") + " is the same file as -init"},
		{[]string{"train", "-config", p("run.json"), "-out", p("c.safetensors"), "-metrics", p("run.json")}, "-metrics " + p("run.json") + " is the same file as -config"},
		{[]string{"train", "-data", "mnist:" + p("mnist"), "-out", p("mnist/train-images-idx3-ubyte.gz")}, "is the same file as -data"},
		{[]string{"predict", "-model", p("w.safetensors"), "-input", p("rows.csv"), "-output", p("rows.csv")}, "-output " + p("rows.csv") + " is the same file as -input"},
		{[]string{"predict", "-model", p("w.safetensors"), "-input", p("rows.csv"), "-output", p("w.safetensors")}, "is the same file as -model"},
	} {
		var stderr bytes.Buffer
		code := run(tc.args, nil, io.Discard, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("ptrain %s: exit %d, stderr %q; want exit 2 with %q", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
		}
	}
	for name, body := range files {
		if b, err := os.ReadFile(p(name)); err != nil || string(b) != body {
			t.Errorf("%s changed: %q, %v", name, b, err)
		}
	}
}

// A resumed run writes its own checkpoint (-out is -resume), but -metrics
// and -plot may not replace it.
func TestResumedRunsOtherOutputsMayNotBeTheCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "m.csv") // a checkpoint with a name -metrics takes
	var stderr bytes.Buffer
	if code := run([]string{"train", "-epochs", "1", "-quiet", "-out", ck}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr.String())
	}
	before, _ := os.ReadFile(ck)
	stderr.Reset()
	code := run([]string{"train", "-resume", ck, "-epochs", "2", "-metrics", ck}, nil, io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "-metrics "+ck+" is the same file as -resume") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming -metrics and -resume", code, stderr.String())
	}
	if after, _ := os.ReadFile(ck); !bytes.Equal(before, after) {
		t.Error("the checkpoint changed")
	}
}
