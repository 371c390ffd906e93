package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// A header-only read lists the tensors of a file whose data is cut short
// or absent, which Parse refuses, and allocates nothing for a header
// length beyond what the reader holds.
func TestReadHeaderReadsNoTensorData(t *testing.T) {
	var buf bytes.Buffer
	ts := []Tensor{
		{Name: "w", DType: "F32", Shape: []int{2, 2}, Data: make([]byte, 16)},
		{Name: "n", DType: "I64", Shape: []int{}, Data: make([]byte, 8)},
	}
	if err := Write(&buf, ts, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	whole := buf.Bytes()
	hdrEnd := 8 + int(binary.LittleEndian.Uint64(whole))
	for _, cut := range []int{hdrEnd, hdrEnd + 5, len(whole)} {
		if cut < len(whole) {
			if _, err := Parse(whole[:cut]); err == nil {
				t.Fatalf("Parse accepted the file cut at %d of %d bytes", cut, len(whole))
			}
		}
		f, err := ReadHeader(bytes.NewReader(whole[:cut]))
		if err != nil {
			t.Fatalf("cut at %d of %d bytes: %v", cut, len(whole), err)
		}
		if got := f.Names(); !reflect.DeepEqual(got, []string{"w", "n"}) || f.Metadata["k"] != "v" {
			t.Fatalf("cut at %d: tensors %v, metadata %v", cut, got, f.Metadata)
		}
		if w := f.Tensor("w"); w.Data != nil || w.DType != "F32" || !reflect.DeepEqual(w.Shape, []int{2, 2}) {
			t.Fatalf("cut at %d: tensor w %+v, want F32 [2 2] without data", cut, w)
		}
	}
	for _, tc := range []struct {
		b    []byte
		want string
	}{
		{whole[:5], "truncated: 5 bytes"},
		{whole[:hdrEnd-1], "truncated: header length"},
		{header(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`), "hole of 1 bytes"},
		{header(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`), "overlaps"},
		{append(binary.LittleEndian.AppendUint64(nil, MaxHeader), '{'), "truncated: header length 104857600 but only 1 bytes follow"},
		{binary.LittleEndian.AppendUint64(nil, MaxHeader+1), "exceeds"},
	} {
		if _, err := ReadHeader(bytes.NewReader(tc.b)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: %v, want an error containing %q", tc.b, err, tc.want)
		}
	}
}

// FuzzReadHeader: ReadHeader never panics, and on any file Parse accepts
// it gives the same metadata and tensors, without their data.
func FuzzReadHeader(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/*.safetensors")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, herr := ReadHeader(bytes.NewReader(b))
		file, err := Parse(b)
		if err != nil {
			return
		}
		if herr != nil {
			t.Fatalf("Parse accepts what ReadHeader refuses: %v", herr)
		}
		if !reflect.DeepEqual(h.Metadata, file.Metadata) || len(h.Tensors) != len(file.Tensors) {
			t.Fatal("ReadHeader's metadata or tensor count differs from Parse's")
		}
		for i, ht := range h.Tensors {
			ft := file.Tensors[i]
			if ht.Data != nil || ht.Name != ft.Name || ht.DType != ft.DType || !reflect.DeepEqual(ht.Shape, ft.Shape) {
				t.Fatalf("tensor %d: ReadHeader %+v, Parse %s %s %v", i, ht, ft.Name, ft.DType, ft.Shape)
			}
		}
	})
}

// A header length of MaxHeader over a reader of a few bytes costs what
// was read, not the length claimed.
func TestReadHeaderAllocatesWhatItReads(t *testing.T) {
	b := append(binary.LittleEndian.AppendUint64(nil, MaxHeader), `{"a":`...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadHeader(bytes.NewReader(b))
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("ReadHeader accepted a header cut short")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("ReadHeader allocated %d bytes for a %d-byte input claiming a %d-byte header", n, len(b), MaxHeader)
	}
}
