package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteParseRoundTrip(t *testing.T) {
	ts := []Tensor{
		{Name: "b", DType: "F32", Shape: []int{2}, Data: []byte{0, 0, 128, 63, 0, 0, 0, 64}},
		{Name: "a", DType: "U8", Shape: []int{3, 1}, Data: []byte{1, 2, 3}},
		{Name: "s", DType: "F64", Shape: nil, Data: make([]byte, 8)},
	}
	var buf bytes.Buffer
	if err := Write(&buf, ts, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); len(got) != 3 || got[0] != "b" || got[1] != "a" || got[2] != "s" {
		t.Fatalf("names in file order: %v", got)
	}
	if a := f.Tensor("a"); a == nil || !bytes.Equal(a.Data, []byte{1, 2, 3}) || a.Shape[0] != 3 {
		t.Fatalf("tensor a: %+v", a)
	}
	if f.Metadata["k"] != "v" {
		t.Fatalf("metadata %v", f.Metadata)
	}
	for _, bad := range [][]Tensor{
		{{Name: "x", DType: "F33", Shape: []int{1}, Data: make([]byte, 4)}},
		{{Name: "x", DType: "F32", Shape: []int{2}, Data: make([]byte, 4)}},
		{{Name: "x", DType: "U8", Data: []byte{1}}, {Name: "x", DType: "U8", Data: []byte{1}}},
		{{Name: "__metadata__", DType: "U8", Data: []byte{1}}},
	} {
		if err := Write(&bytes.Buffer{}, bad, nil); err == nil {
			t.Errorf("Write accepted %+v", bad)
		}
	}
}

func TestParseRejectsHolesAndOverlaps(t *testing.T) {
	for _, tc := range []struct{ hdr, want string }{
		{`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, "overlaps"},
		{`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}`, "hole"},
		{`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}`, "not increasing"},
		{`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, "bad shape"},
		{`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}`, "data_offsets must be"},
		{`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}}`, "bad header entry"},
		{`{"__metadata__":{"k":1}}`, "__metadata__"},
	} {
		var b bytes.Buffer
		n := len(tc.hdr)
		b.Write([]byte{byte(n), byte(n >> 8), 0, 0, 0, 0, 0, 0})
		b.WriteString(tc.hdr)
		b.Write([]byte{7, 7, 7})
		_, err := Parse(b.Bytes())
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("%s: %v, want an error containing %q", tc.hdr, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/*.safetensors")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Write(&out, file.Tensors, file.Metadata); err != nil {
			t.Fatalf("a parsed file does not write back: %v", err)
		}
		again, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("a written file does not parse: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) {
			t.Fatal("tensor count changed in the round trip")
		}
		for i := range file.Tensors {
			if !bytes.Equal(file.Tensors[i].Data, again.Tensors[i].Data) || file.Tensors[i].Name != again.Tensors[i].Name {
				t.Fatalf("tensor %d changed in the round trip", i)
			}
		}
	})
}

func TestReadFileRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	paths := []string{"/dev/zero", dir}
	if err := mkfifo(fifo); err == nil {
		paths = append(paths, fifo)
	}
	for _, p := range paths {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(p); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("ReadFile(%s): %v, want a refusal naming the file", p, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadFile(%s) did not return", p)
		}
	}
}

// A header that announces more than the file holds is refused before
// anything of that size is allocated.
func TestReadFileChecksTheHeaderAgainstTheFileSize(t *testing.T) {
	dir := t.TempDir()
	huge := func(n uint64) []byte {
		b := make([]byte, 8, 64)
		binary.LittleEndian.PutUint64(b, n)
		return append(b, `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`...)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"short", []byte{1, 2, 3}, "truncated"},
		{"huge-header", huge(1 << 62), "exceeds"},
		{"header-past-end", huge(MaxHeader), "truncated: header length"},
		{"data-past-end", huge(53), "truncated: data ends"},
		{"trailing", append(huge(53), 1, 2, 3), "bytes after the last tensor"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "not a safetensors file: a PNG image"},
		{"torch-zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00archive/data.pkl"), "not a safetensors file: a zip archive (torch.save"},
		{"text", []byte("epoch,train_loss\n1,0.5\n"), `not a safetensors file: it starts with the text "epoch,tr"`},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, tc.b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFile(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming the file and %q", tc.name, err, tc.want)
		}
	}
}

// FuzzReadFile: reading from disk and parsing from memory agree on every
// input.
func FuzzReadFile(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/*.safetensors")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "x.safetensors")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		a, errA := Parse(b)
		c, errC := ReadFile(p)
		if (errA == nil) != (errC == nil) {
			t.Fatalf("Parse: %v, ReadFile: %v", errA, errC)
		}
		if errA != nil {
			if !strings.Contains(errC.Error(), errA.Error()) && !strings.Contains(errA.Error(), "truncated") {
				t.Fatalf("Parse: %v, ReadFile: %v", errA, errC)
			}
			return
		}
		if len(a.Tensors) != len(c.Tensors) {
			t.Fatal("tensor counts differ")
		}
		for i := range a.Tensors {
			if !bytes.Equal(a.Tensors[i].Data, c.Tensors[i].Data) || a.Tensors[i].Name != c.Tensors[i].Name {
				t.Fatalf("tensor %d differs", i)
			}
		}
	})
}
