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
	"strconv"
	"strings"
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

// Error says what is wrong, with the tensor if any and the byte offset.
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
	n, err := headerLen(b[:8], int64(len(b)))
	if err != nil {
		return nil, err
	}
	f, spans, err := parseHeader(b[8:8+n], int64(len(b))-8-n)
	if err != nil {
		return nil, err
	}
	f.attach(b[8+n:], spans)
	return f, nil
}

// headerLen decodes the 8-byte header length and checks it against the
// limit and against size, the whole file's length.
func headerLen(b []byte, size int64) (int64, error) {
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeader {
		if what := otherFormat(b); what != "" {
			return 0, &FormatError{Msg: what}
		}
		return 0, &FormatError{Msg: fmt.Sprintf("header length %d exceeds the %d-byte limit", n, MaxHeader)}
	}
	if int64(n) > size-8 {
		if what := otherFormat(b); what != "" {
			return 0, &FormatError{Msg: what}
		}
		return 0, &FormatError{Offset: 8, Msg: fmt.Sprintf("truncated: header length %d but only %d bytes follow", n, size-8)}
	}
	return int64(n), nil
}

// otherFormat names the format of a file whose first 8 bytes are b when
// they are a well-known signature rather than a header length (a PNG
// read by mistake would otherwise be "a header length of 7e17"), or
// describes them when they are text; "" when it cannot tell.
func otherFormat(b []byte) string {
	for _, f := range []struct{ magic, what string }{
		{"\x89PNG", "a PNG image"},
		{"\xff\xd8\xff", "a JPEG image"},
		{"GIF8", "a GIF image"},
		{"PK\x03\x04", "a zip archive (torch.save writes one: convert it with safetensors.torch.save_file)"},
		{"\x1f\x8b", "gzip-compressed"},
		{"\x80\x02", "a Python pickle (convert it with safetensors.torch.save_file)"},
		{"\x7fELF", "an executable"},
		{"\x93NUMPY", "a NumPy .npy array"},
		{"\x89HDF", "an HDF5 file (Keras .h5)"},
	} {
		if strings.HasPrefix(string(b), f.magic) {
			return "not a safetensors file: " + f.what
		}
	}
	for _, c := range b {
		if c < 0x09 || c > 0x7e || (c > 0x0d && c < 0x20) {
			return ""
		}
	}
	return fmt.Sprintf("not a safetensors file: it starts with the text %q, where a safetensors file has the 8-byte length of its JSON header", b)
}

// span is where a tensor's bytes lie in the data section.
type span struct{ begin, end int64 }

// MaxTensors bounds the tensors a header may list. A model of thousands
// of layers with its optimizer state has a few tens of thousands; a
// header of a million empty tensors fits in MaxHeader, and would cost
// far more memory and time to index than the file's size.
const MaxTensors = 1 << 16

// MaxName bounds a tensor's name, so that an error naming the tensor is
// one line.
const MaxName = 1 << 10

// decodeInfo decodes a tensor's header entry, refusing fields it does not
// know, by hand: encoding/json's garbage per tensor would double the
// memory a header of many tensors costs before the collector frees it.
func decodeInfo(msg []byte, in *info) error {
	if msg[0] != '{' {
		return fmt.Errorf("want an object, not %.20s", msg)
	}
	return members(msg, func(key, v []byte) error {
		var err error
		switch string(key) {
		case `"dtype"`:
			if v[0] != '"' {
				return fmt.Errorf("dtype %.20s is not a string", v)
			}
			in.DType = unquote(v)
		case `"shape"`:
			in.Shape, err = ints(v)
		case `"data_offsets"`:
			in.Offsets, err = ints(v)
		default:
			return fmt.Errorf("unknown field %.40s", key)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
}

// ints decodes a JSON array of integers (v is valid JSON).
func ints(v []byte) ([]int64, error) {
	if v[0] != '[' {
		return nil, fmt.Errorf("want an array of integers, not %.20s", v)
	}
	out := []int64{}
	body := bytes.TrimSpace(v[1 : len(v)-1])
	if len(body) == 0 {
		return out, nil
	}
	for _, f := range bytes.Split(body, []byte{','}) {
		n, err := strconv.ParseInt(string(bytes.TrimSpace(f)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("want an array of integers, not %.40s", v)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseHeader checks the JSON header hdr against a data section of
// dataLen bytes, which the tensors must tile exactly, and returns the
// tensors without their Data, in offset order, with their spans. A
// dataLen < 0 is a data section not read (ReadHeader): the tensors must
// tile it from 0, without holes or overlaps, however long it is. It
// decodes one member of the header at a time, from hdr itself: what it
// allocates beyond hdr is the metadata's strings and the tensors' index.
func parseHeader(hdr []byte, dataLen int64) (*File, []span, error) {
	if len(hdr) == 0 || hdr[0] != '{' || !utf8.Valid(hdr) {
		return nil, nil, &FormatError{Offset: 8, Msg: "header is not a UTF-8 JSON object"}
	}
	if !json.Valid(hdr) {
		err := json.Unmarshal(hdr, &struct{}{}) // its message says where
		return nil, nil, &FormatError{Offset: 8, Msg: fmt.Sprintf("bad JSON header: %v", err)}
	}
	base := int64(8 + len(hdr))
	f := &File{}
	begins := map[string]span{}
	hasMeta := false
	err := members(hdr, func(key, msg []byte) error {
		name := unquote(key)
		if len(name) > MaxName {
			return &FormatError{Offset: 8, Msg: fmt.Sprintf("a tensor name of %d bytes, more than the limit of %d (safetensors.MaxName)", len(name), MaxName)}
		}
		if _, dup := begins[name]; dup || (hasMeta && name == "__metadata__") {
			return &FormatError{Offset: 8, Tensor: name, Msg: "named twice in the header"}
		}
		if name == "__metadata__" {
			hasMeta = true
			var err error
			f.Metadata, err = stringMap(msg)
			return err
		}
		if len(f.Tensors) == MaxTensors {
			return &FormatError{Offset: 8, Msg: fmt.Sprintf("the header lists more than %d tensors (the limit, safetensors.MaxTensors)", MaxTensors)}
		}
		var in info
		if err := decodeInfo(msg, &in); err != nil {
			return &FormatError{Offset: 8, Tensor: name, Msg: "bad header entry: " + err.Error()}
		}
		size, ok := DTypeSize[in.DType]
		if !ok {
			return &FormatError{Offset: 8, Tensor: name, Msg: fmt.Sprintf("unknown dtype %q", in.DType)}
		}
		if len(in.Offsets) != 2 {
			return &FormatError{Offset: 8, Tensor: name, Msg: "data_offsets must be [begin, end]"}
		}
		begin, end := in.Offsets[0], in.Offsets[1]
		if begin < 0 || end < begin {
			return &FormatError{Offset: 8, Tensor: name, Msg: fmt.Sprintf("data_offsets [%d, %d] are not increasing", begin, end)}
		}
		if dataLen >= 0 && end > dataLen {
			return &FormatError{Offset: base + dataLen, Tensor: name, Msg: fmt.Sprintf("truncated: data ends at byte %d of the data section, which has %d", end, dataLen)}
		}
		elems := int64(1)
		shape := make([]int, len(in.Shape))
		for i, d := range in.Shape {
			if d < 0 || (d > 0 && elems > math.MaxInt32*int64(1<<20)/d) {
				return &FormatError{Offset: 8, Tensor: name, Msg: fmt.Sprintf("bad shape %v", in.Shape)}
			}
			elems *= d
			shape[i] = int(d)
		}
		if elems*int64(size) != end-begin {
			return &FormatError{Offset: 8, Tensor: name, Msg: fmt.Sprintf("shape %v of %s needs %d bytes, data_offsets give %d", in.Shape, in.DType, elems*int64(size), end-begin)}
		}
		begins[name] = span{begin, end}
		f.Tensors = append(f.Tensors, Tensor{Name: name, DType: in.DType, Shape: shape})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Sort by offset and demand that the tensors tile the data exactly.
	sort.Slice(f.Tensors, func(i, j int) bool {
		si, sj := begins[f.Tensors[i].Name].begin, begins[f.Tensors[j].Name].begin
		if si != sj {
			return si < sj
		}
		return f.Tensors[i].Name < f.Tensors[j].Name
	})
	spans := make([]span, len(f.Tensors))
	var pos int64
	for i, t := range f.Tensors {
		s := begins[t.Name]
		if s.begin != pos {
			if s.begin < pos {
				return nil, nil, &FormatError{Offset: base + s.begin, Tensor: t.Name, Msg: "data overlaps the previous tensor"}
			}
			return nil, nil, &FormatError{Offset: base + pos, Tensor: t.Name, Msg: fmt.Sprintf("hole of %d bytes before the tensor", s.begin-pos)}
		}
		spans[i] = s
		pos = s.end
	}
	if dataLen >= 0 && pos != dataLen {
		return nil, nil, &FormatError{Offset: base + pos, Msg: fmt.Sprintf("%d bytes after the last tensor", dataLen-pos)}
	}
	return f, spans, nil
}

// attach points every tensor's Data into the data section.
func (f *File) attach(data []byte, spans []span) {
	for i, s := range spans {
		f.Tensors[i].Data = data[s.begin:s.end:s.end]
	}
}

// ReadFile reads and parses the file at path; its errors name the file.
// It reads the header first and checks it against the file's size before
// reading the data, so that a damaged or hostile file costs no more memory
// than a well-formed one of its size; anything but a regular file (a
// device such as /dev/zero, a pipe, a directory) is refused.
func ReadFile(path string) (*File, error) {
	// Stat first: opening a FIFO would wait for a writer.
	if fi, err := os.Stat(path); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, notRegular(fi))
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError: names the file
	}
	defer fh.Close()
	f, err := readFile(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func readFile(fh *os.File) (*File, error) {
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi)
	}
	size := fi.Size()
	var lenBuf [8]byte
	if _, err := io.ReadFull(fh, lenBuf[:]); err != nil {
		return nil, &FormatError{Offset: 0, Msg: fmt.Sprintf("truncated: %d bytes, shorter than the 8-byte header length", size)}
	}
	n, err := headerLen(lenBuf[:], size)
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(fh, hdr); err != nil {
		return nil, &FormatError{Offset: 8, Msg: "reading the header: " + err.Error()}
	}
	dataLen := size - 8 - n
	f, spans, err := parseHeader(hdr, dataLen)
	if err != nil {
		return nil, err
	}
	// The header accounts for every byte of the file: reading the rest
	// allocates exactly what the tensors need. A file that changes size
	// meanwhile is caught by the read falling short or going on.
	data := make([]byte, dataLen)
	if _, err := io.ReadFull(fh, data); err != nil {
		return nil, &FormatError{Offset: 8 + n, Msg: "reading the tensor data: " + err.Error()}
	}
	var extra [1]byte
	if k, _ := fh.Read(extra[:]); k > 0 {
		return nil, &FormatError{Offset: size, Msg: "the file grew while it was read"}
	}
	f.attach(data, spans)
	return f, nil
}

func notRegular(fi os.FileInfo) error {
	kind := "a special file"
	switch m := fi.Mode(); {
	case m.IsDir():
		kind = "a directory"
	case m&os.ModeDevice != 0:
		kind = "a device"
	case m&os.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&os.ModeSocket != 0:
		kind = "a socket"
	}
	return fmt.Errorf("not a regular file but %s", kind)
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
