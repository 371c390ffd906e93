package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"unicode/utf8"
)

// MaxHeader bounds the JSON header (the reference implementation uses the
// same 100 MB limit).
const MaxHeader = 100 << 20

// DTypeSize gives the element size in bytes of every dtype the format
// defines. Other names are rejected as unknown.
var DTypeSize = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// Tensor is one named tensor. Data is its raw little-endian bytes; from
// Parse it is a view into the parsed buffer.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

// File is a parsed safetensors file. Tensors are in data-offset order.
type File struct {
	Metadata map[string]string
	Tensors  []Tensor
}

// Tensor returns the tensor called name, or nil.
func (f *File) Tensor(name string) *Tensor {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i]
		}
	}
	return nil
}

// FormatError says what is wrong with a safetensors file and where.
type FormatError struct {
	Offset int64  // byte offset in the file the problem was found at
	Tensor string // tensor concerned, if any
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Tensor != "" {
		return fmt.Sprintf("safetensors: tensor %q: %s (byte %d)", e.Tensor, e.Msg, e.Offset)
	}
	return fmt.Sprintf("safetensors: %s (byte %d)", e.Msg, e.Offset)
}

type info struct {
	DType   string  `json:"dtype"`
	Shape   []int64 `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
}

// Parse reads a whole safetensors file held in b. The returned tensors'
// Data alias b.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, &FormatError{Offset: int64(len(b)), Msg: fmt.Sprintf("truncated: %d bytes, shorter than the 8-byte header length", len(b))}
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeader {
		return nil, &FormatError{Msg: fmt.Sprintf("header length %d exceeds the %d-byte limit", n, MaxHeader)}
	}
	if n > uint64(len(b)-8) {
		return nil, &FormatError{Offset: 8, Msg: fmt.Sprintf("truncated: header length %d but only %d bytes follow", n, len(b)-8)}
	}
	hdr := b[8 : 8+n]
	if len(hdr) == 0 || hdr[0] != '{' || !utf8.Valid(hdr) {
		return nil, &FormatError{Offset: 8, Msg: "header is not a UTF-8 JSON object"}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, &FormatError{Offset: 8, Msg: "bad JSON header: " + err.Error()}
	}
	data := b[8+n:]
	base := int64(8 + n)
	f := &File{}
	begins := make(map[string]int64, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, &FormatError{Offset: 8, Msg: "__metadata__ must map strings to strings"}
			}
			continue
		}
		var in info
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return nil, &FormatError{Offset: 8, Tensor: name, Msg: "bad header entry: " + err.Error()}
		}
		size, ok := DTypeSize[in.DType]
		if !ok {
			return nil, &FormatError{Offset: 8, Tensor: name, Msg: fmt.Sprintf("unknown dtype %q", in.DType)}
		}
		if len(in.Offsets) != 2 {
			return nil, &FormatError{Offset: 8, Tensor: name, Msg: "data_offsets must be [begin, end]"}
		}
		begin, end := in.Offsets[0], in.Offsets[1]
		if begin < 0 || end < begin {
			return nil, &FormatError{Offset: 8, Tensor: name, Msg: fmt.Sprintf("data_offsets [%d, %d] are not increasing", begin, end)}
		}
		if end > int64(len(data)) {
			return nil, &FormatError{Offset: base + int64(len(data)), Tensor: name, Msg: fmt.Sprintf("truncated: data ends at byte %d of the data section, which has %d", end, len(data))}
		}
		elems := int64(1)
		shape := make([]int, len(in.Shape))
		for i, d := range in.Shape {
			if d < 0 || (d > 0 && elems > math.MaxInt32*int64(1<<20)/d) {
				return nil, &FormatError{Offset: 8, Tensor: name, Msg: fmt.Sprintf("bad shape %v", in.Shape)}
			}
			elems *= d
			shape[i] = int(d)
		}
		if elems*int64(size) != end-begin {
			return nil, &FormatError{Offset: 8, Tensor: name, Msg: fmt.Sprintf("shape %v of %s needs %d bytes, data_offsets give %d", in.Shape, in.DType, elems*int64(size), end-begin)}
		}
		begins[name] = begin
		f.Tensors = append(f.Tensors, Tensor{Name: name, DType: in.DType, Shape: shape, Data: data[begin:end:end]})
	}
	// Sort by offset and demand that the tensors tile the data exactly.
	sort.Slice(f.Tensors, func(i, j int) bool {
		si, sj := begins[f.Tensors[i].Name], begins[f.Tensors[j].Name]
		if si != sj {
			return si < sj
		}
		return f.Tensors[i].Name < f.Tensors[j].Name
	})
	var pos int64
	for _, t := range f.Tensors {
		s := begins[t.Name]
		if s != pos {
			if s < pos {
				return nil, &FormatError{Offset: base + s, Tensor: t.Name, Msg: "data overlaps the previous tensor"}
			}
			return nil, &FormatError{Offset: base + pos, Tensor: t.Name, Msg: fmt.Sprintf("hole of %d bytes before the tensor", s-pos)}
		}
		pos += int64(len(t.Data))
	}
	if pos != int64(len(data)) {
		return nil, &FormatError{Offset: base + pos, Msg: fmt.Sprintf("%d bytes after the last tensor", int64(len(data))-pos)}
	}
	return f, nil
}

// ReadFile reads and parses the file at path; its errors name the file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err // *PathError: names the file
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Read reads a whole safetensors file from r and parses it.
func Read(r io.Reader) (*File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Write writes tensors, in the order given, and metadata (which may be nil).
// Names must be unique and not "__metadata__", and each tensor's Data must
// match its dtype and shape.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	hdr := make(map[string]any, len(tensors)+1)
	if len(metadata) > 0 {
		hdr["__metadata__"] = metadata
	}
	var off int64
	for _, t := range tensors {
		size, ok := DTypeSize[t.DType]
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		if _, dup := hdr[t.Name]; dup || t.Name == "__metadata__" || t.Name == "" {
			return fmt.Errorf("safetensors: tensor name %q is empty, reserved or repeated", t.Name)
		}
		elems := 1
		for _, d := range t.Shape {
			elems *= d
		}
		if elems*size != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, has %d", t.Name, t.Shape, t.DType, elems*size, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		hdr[t.Name] = map[string]any{"dtype": t.DType, "shape": shape, "data_offsets": []int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	js, err := json.Marshal(hdr) // map keys are sorted: deterministic
	if err != nil {
		return err
	}
	if pad := (8 - len(js)%8) % 8; pad > 0 {
		js = append(js, bytes.Repeat([]byte{' '}, pad)...)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(js)))
	bw := &errWriter{w: w}
	bw.write(n[:])
	bw.write(js)
	for _, t := range tensors {
		bw.write(t.Data)
	}
	return bw.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

// ErrNoTensor is returned (wrapped) when a required tensor is missing.
var ErrNoTensor = errors.New("no such tensor")

// Names lists the tensor names, in file order.
func (f *File) Names() []string {
	names := make([]string, len(f.Tensors))
	for i, t := range f.Tensors {
		names[i] = t.Name
	}
	return slices.Clip(names)
}
