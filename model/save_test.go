package model

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model/safetensors"
)

func trainedish(t *testing.T) *Model[float32] {
	t.Helper()
	m, err := New[float32](MustParseSpec("4-5:relu-3:softmax"), 11)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Params {
		m.Params[i] += float32(i) * 1e-3 // non-zero biases
	}
	return m
}

func TestSaveLoadSaveIsByteIdentical(t *testing.T) {
	m := trainedish(t)
	var a bytes.Buffer
	if err := m.Save(&a, map[string]string{"note": "x"}); err != nil {
		t.Fatal(err)
	}
	m2, f, err := Load[float32](bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if m2.Spec.String() != m.Spec.String() || f.Metadata["note"] != "x" {
		t.Fatalf("loaded spec %v metadata %v", m2.Spec, f.Metadata)
	}
	var b bytes.Buffer
	if err := m2.Save(&b, map[string]string{"note": "x"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("Save → Load → Save changed the bytes")
	}
	if n := binary.LittleEndian.Uint64(a.Bytes()); (8+n)%8 != 0 {
		t.Fatalf("data section starts at %d, not 8-byte aligned", 8+n)
	}
}

// TestLoadsForeignFile reads a file laid out as another tool would write it:
// F64 data, other key order, no ptrain metadata, an extra tensor.
func TestLoadsForeignFile(t *testing.T) {
	w := safetensors.Encode([]float64{1, 2, 3, 4, 5, 6}) // (3, 2)
	b := safetensors.Encode([]float64{0.5, -0.5, 0})
	extra := safetensors.Encode([]float64{9})
	hdr := `{"dense.0.bias":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},` +
		`"dense.0.weight":{"shape":[3,2],"dtype":"F64","data_offsets":[24,72]},` +
		`"step":{"dtype":"F64","shape":[],"data_offsets":[72,80]}}`
	var file bytes.Buffer
	_ = binary.Write(&file, binary.LittleEndian, uint64(len(hdr)))
	file.WriteString(hdr)
	file.Write(b)
	file.Write(w)
	file.Write(extra)
	f, err := safetensors.Parse(file.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromFile[float32](f); err == nil || !strings.Contains(err.Error(), MetaArch) {
		t.Fatalf("FromFile without arch metadata: %v", err)
	}
	m, _ := NewZero[float32](MustParseSpec("2-3:softmax"))
	if err := m.SetWeights(f); err != nil {
		t.Fatal(err)
	}
	if denseLayer(m, 0).W.At(2, 1) != 6 || denseLayer(m, 0).B[1] != -0.5 {
		t.Fatalf("weights %v bias %v", denseLayer(m, 0).W.Data, denseLayer(m, 0).B)
	}
	wrong, _ := NewZero[float32](MustParseSpec("3-2:softmax"))
	if err := wrong.SetWeights(f); err == nil || !strings.Contains(err.Error(), "shape [3 2], the model needs [2 3]") {
		t.Fatalf("shape mismatch: %v", err)
	}
	deeper, _ := NewZero[float32](MustParseSpec("2-3:relu-2"))
	if err := deeper.SetWeights(f); !errors.Is(err, safetensors.ErrNoTensor) {
		t.Fatalf("missing layer: %v", err)
	}
}

func TestLoadRejectsDamagedFiles(t *testing.T) {
	var good bytes.Buffer
	_ = trainedish(t).Save(&good, nil)
	g := good.Bytes()
	hl := int(binary.LittleEndian.Uint64(g))
	hdr := string(g[8 : 8+hl])
	withHeader := func(h string) []byte {
		var b bytes.Buffer
		_ = binary.Write(&b, binary.LittleEndian, uint64(len(h)))
		b.WriteString(h)
		b.Write(g[8+hl:])
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"short length", g[:5], "truncated"},
		{"header past end", g[:8+hl-3], "truncated: header length"},
		{"data cut", g[:len(g)-4], "truncated: data ends"},
		{"trailing bytes", append(append([]byte(nil), g...), 0, 0, 0, 0), "after the last tensor"},
		{"huge header", append([]byte{0, 0, 0, 0, 0, 0, 0, 0x10}, g[8:]...), "exceeds"},
		{"not JSON", withHeader("[1,2]   "), "not a UTF-8 JSON object"},
		{"bad JSON", withHeader(`{"a":`), "bad JSON"},
		{"unknown dtype", withHeader(strings.Replace(hdr, `"F32"`, `"F31"`, 1)), "unknown dtype"},
		{"shape vs bytes", withHeader(strings.Replace(hdr, `"shape":[3]`, `"shape":[4]`, 1)), "needs"},
		{"wrong arch", withHeader(strings.Replace(hdr, "4-5:relu", "4-6:relu", 1)), "model needs"},
		{"bad arch", withHeader(strings.Replace(hdr, "4-5:relu", "4-5:rulu", 1)), "unknown activation"},
		{"unsupported dtype", withHeader(strings.Replace(hdr, `"F32","shape":[3]`, `"I32","shape":[3]`, 1)), "not supported"},
	} {
		_, _, err := Load[float32](bytes.NewReader(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestSaveFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	m := trainedish(t)
	if err := m.SaveFile(path, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	failing := safetensors.WriteFileAtomic(path, func(w2 io.Writer) error {
		_, _ = w2.Write([]byte("partial"))
		return errors.New("disk on fire")
	})
	if failing == nil {
		t.Fatal("a failing write reported success")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("a failed write damaged the previous file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if _, _, err := LoadFile[float64](path); err != nil {
		t.Fatal(err)
	}
}

func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.safetensors")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, file, err := Load[float64](bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever loads must save and load back to the same parameters.
		var out bytes.Buffer
		extra := map[string]string{}
		for k, v := range file.Metadata {
			if k != MetaArch && k != "format" {
				extra[k] = v
			}
		}
		if err := m.Save(&out, extra); err != nil {
			t.Fatal(err)
		}
		m2, _, err := Load[float64](&out)
		if err != nil {
			t.Fatalf("reloading a saved model: %v", err)
		}
		for i := range m.Params {
			if m.Params[i] != m2.Params[i] {
				t.Fatalf("parameter %d changed in the round trip", i)
			}
		}
	})
}

// TestMetadataIsTheSpec: Save writes the spec and the format, nothing a
// reader would have to keep consistent with it (the old
// ptrain.activations repeated what the spec says, and nobody read it).
func TestMetadataIsTheSpec(t *testing.T) {
	m := trainedish(t)
	var out bytes.Buffer
	if err := m.Save(&out, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{MetaArch: "4-5:relu-3:softmax", "format": "pt"}
	if !maps.Equal(f.Metadata, want) {
		t.Fatalf("metadata %v, want %v", f.Metadata, want)
	}
}
