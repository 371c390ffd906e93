package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A headerless CSV read with -csv-header (the default) loses its first row
// to the column names; train, eval (loadDataset) and predict (openCSVRows)
// warn on stderr, naming the file and -csv-header=false, when every header
// field is a number — and stay quiet for a real header or -csv-header=false.
func TestNumericHeaderWarns(t *testing.T) {
	dir := t.TempDir()
	headerless := filepath.Join(dir, "rows.csv")
	named := filepath.Join(dir, "named.csv")
	if err := os.WriteFile(headerless, []byte("5.1,3.5,0\n4.9,3.0,1\n4.7,3.2,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(named, []byte("a,b,label\n4.9,3.0,1\n4.7,3.2,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	old := warnings
	warnings = &buf
	t.Cleanup(func() { warnings = old })
	for _, tc := range []struct {
		file   string
		header bool
		warn   bool
	}{
		{headerless, true, true},
		{headerless, false, false},
		{named, true, false},
	} {
		buf.Reset()
		c := defaultConfig()
		c.Data, c.CSVHeader = "csv:"+tc.file, tc.header
		if _, _, err := loadDataset(&c, nil, false); err != nil {
			t.Fatalf("loadDataset %s header=%v: %v", tc.file, tc.header, err)
		}
		checkNumericHeaderWarning(t, "loadDataset", tc.file, tc.header, tc.warn, buf.String())

		buf.Reset()
		text, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		co := csvFlags{label: "-1", header: tc.header}
		if _, _, err := openCSVRows(bytes.NewReader(text), tc.file, co, ',', 2, false); err != nil {
			t.Fatalf("openCSVRows %s header=%v: %v", tc.file, tc.header, err)
		}
		checkNumericHeaderWarning(t, "openCSVRows", tc.file, tc.header, tc.warn, buf.String())
	}
}

func checkNumericHeaderWarning(t *testing.T, what, file string, header, warn bool, got string) {
	t.Helper()
	if !warn {
		if got != "" {
			t.Errorf("%s %s header=%v: unexpected warning %q", what, file, header, got)
		}
		return
	}
	if !strings.Contains(got, file) || !strings.Contains(got, "-csv-header=false") {
		t.Errorf("%s %s header=%v: warning %q, want one naming the file and -csv-header=false", what, file, header, got)
	}
}

// A table whose first line is shorter than the next (a metadata line, as
// scikit-learn's wine_data.csv starts with) read without -csv-skip is
// refused with a hint to skip it.
func TestShortFirstLineSuggestsCSVSkip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "wine.csv")
	if err := os.WriteFile(p, []byte("3,4,a\n1,2,3,4,0\n5,6,7,8,1\n9,1,2,3,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := defaultConfig()
	c.Data = "csv:" + p
	c.CSVSkip = 0
	_, _, err := loadDataset(&c, nil, false)
	if err == nil || !strings.Contains(err.Error(), "line 2: 5 fields, want 3") {
		t.Fatalf("short first line: %v", err)
	}
	if !strings.Contains(err.Error(), "metadata line") || !strings.Contains(err.Error(), "-csv-skip 1") {
		t.Errorf("short first line: %v, want a hint to -csv-skip 1", err)
	}
	c.CSVSkip, c.CSVHeader = 1, false
	if _, _, err := loadDataset(&c, nil, false); err != nil {
		t.Errorf("with -csv-skip 1: %v", err)
	}
}
