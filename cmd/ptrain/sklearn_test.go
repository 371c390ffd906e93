package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// -csv-skip 1 over a scikit-learn table keeps the class names of its
// metadata line: the checkpoint, predict and eval name the classes.
func TestSklearnMetadataLineNamesTheClasses(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("30,2,setosa,versicolor,virginica\n")
	for i := range 30 {
		c := i % 3
		b.WriteString(strings.Join([]string{strconv.Itoa(c*10 + i%4), strconv.Itoa(c*5 - i%3), strconv.Itoa(c)}, ",") + "\n")
	}
	writeFiles(t, dir, map[string]string{"iris.csv": b.String(), "odd.csv": "30,2,a,b\n1,2,5\n3,4,6\n1,3,5\n2,4,6\n1,1,5\n4,4,6\n1,2,5\n3,4,6\n1,3,5\n2,4,6\n"})
	mustRun(t, dir, "train", "-data", "csv:iris.csv", "-csv-skip", "1", "-csv-header=false", "-epochs", "1", "-quiet")
	if c := tensors(t, dir+"/ptrain.safetensors").Metadata[metaClasses]; c != `["setosa","versicolor","virginica"]` {
		t.Errorf("classes %s; want the metadata line's names", c)
	}
	if out := mustRun(t, dir, "predict", "-model", "ptrain.safetensors", "-input", "iris.csv", "-csv-skip", "1", "-csv-header=false"); !strings.HasPrefix(out, "row,class,p_setosa,p_versicolor,p_virginica\n") {
		t.Errorf("predict:\n%.200s", out)
	}
	if out := mustRun(t, dir, "eval", "-model", "ptrain.safetensors"); !strings.Contains(out, "setosa") {
		t.Errorf("eval:\n%s", out)
	}
	// Labels that are not 0 … n−1: the line was not such metadata.
	mustRun(t, dir, "train", "-data", "csv:odd.csv", "-csv-skip", "1", "-csv-header=false", "-epochs", "1", "-quiet", "-out", "odd.safetensors")
	if c := tensors(t, dir+"/odd.safetensors").Metadata[metaClasses]; c != `["5","6"]` {
		t.Errorf("classes %s; want the labels", c)
	}
}

// FuzzSklearnClassNames: any first line gives nil or distinct, non-empty,
// non-numeric names, and never a panic.
func FuzzSklearnClassNames(f *testing.F) {
	for _, s := range []string{"150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n", "1,2,3,4\n", "a,b,c\n", "178,13,class_0,class_1,class_2", "", "2,2,x,x\n", "3,1,,b\n"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		path := filepath.Join(dir, "t.csv")
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		names := sklearnClassNames(path, 1, ',')
		if names != nil && len(names) < 2 {
			t.Fatalf("%q: names %q", s, names)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if _, err := strconv.ParseFloat(n, 64); err == nil || n == "" || seen[n] {
				t.Fatalf("%q: name %q", s, n)
			}
			seen[n] = true
		}
	})
}
