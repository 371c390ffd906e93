package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// FormatError is a malformed input file: which file, where, what was wrong.
type FormatError struct {
	File   string
	Where  string // "byte 12", "line 3, column 2"
	Msg    string
	Source error // underlying error, if any
}

// Error returns "file: where: message", or "file: message" without a
// position.
func (e *FormatError) Error() string {
	if e.Where == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Where, e.Msg)
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *FormatError) Unwrap() error { return e.Source }

// IDX is the content of an IDX file: unsigned bytes with their dimensions.
type IDX struct {
	Dims []int
	Data []uint8
}

// maxIDX bounds what an IDX header may announce (16 GiB), and maxPrealloc
// what is allocated before the data has arrived.
const (
	maxIDX      = 1 << 34
	maxPrealloc = 64 << 20
)

// OpenMaybeGzip opens path and, if its content starts with the gzip magic
// (whatever the file name says), decompresses it. Closing the result closes
// the file.
func OpenMaybeGzip(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := MaybeGzip(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{r, f}, nil
}

// MaybeGzip reads r through gzip when it starts with gzip's magic bytes,
// and as it is otherwise. name is what errors call the stream: a bad
// header is a *FormatError, a stream cut short or failing its checksum a
// *GzipError.
func MaybeGzip(r io.Reader, name string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, &FormatError{File: name, Where: "byte 0", Msg: "bad gzip header", Source: err}
		}
		return gzipReader{z, name}, nil
	}
	return br, nil
}

// GzipError is a gzip stream that ends early or fails its checksum, found
// while reading the data inside it.
type GzipError struct {
	File string
	Err  error // io.ErrUnexpectedEOF, gzip.ErrChecksum, ...
}

// Error says the data were cut short or are corrupt, naming the file.
func (e *GzipError) Error() string {
	if errors.Is(e.Err, io.ErrUnexpectedEOF) {
		return "truncated gzip data in " + e.File + " (the file was cut short)"
	}
	return fmt.Sprintf("corrupt gzip data in %s: %v", e.File, e.Err)
}

// Unwrap is the gzip layer's error.
func (e *GzipError) Unwrap() error { return e.Err }

// gzipReader names the file in the errors of the gzip layer, which would
// otherwise reach the user as a bare "unexpected EOF".
type gzipReader struct {
	z    *gzip.Reader
	name string
}

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.z.Read(p)
	if err != nil && err != io.EOF {
		err = &GzipError{File: g.name, Err: err}
	}
	return n, err
}

// ReadIDXFile reads an IDX file, gzip-compressed or raw.
func ReadIDXFile(path string) (*IDX, error) {
	r, err := OpenMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return ReadIDX(r, path)
}

// ReadIDX reads an uncompressed IDX stream (after any gzip layer); name is
// used in errors. The header is big-endian: two zero bytes, the type (0x08,
// unsigned byte, is the one supported), the number of dimensions, then
// each dimension as a uint32. The payload must be exactly the product of
// the dimensions, with nothing after it.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	dims, err := ReadIDXHeader(r, name)
	if err != nil {
		return nil, err
	}
	nd := len(dims)
	total := int64(1)
	for _, d := range dims {
		total *= int64(d) // ReadIDXHeader bounded the product
	}
	start := int64(4 + 4*nd)
	// Grow with the data actually read, never to what the header claims.
	buf := make([]byte, 0, min(total, maxPrealloc))
	for int64(len(buf)) < total {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), total))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF && int64(len(buf)) < total {
			return nil, &FormatError{File: name, Where: fmt.Sprintf("byte %d", start+int64(len(buf))),
				Msg: fmt.Sprintf("file ends after %d of the %d data bytes that dimensions %v announce", len(buf), total, dims)}
		}
		if err != nil && err != io.EOF {
			return nil, idxErr(name, start+int64(len(buf)), "reading data", err)
		}
	}
	var extra [1]byte
	if n, _ := io.ReadFull(r, extra[:]); n > 0 {
		return nil, &FormatError{File: name, Where: fmt.Sprintf("byte %d", start+total), Msg: fmt.Sprintf("data continues past the %d bytes that dimensions %v announce", total, dims)}
	}
	return &IDX{Dims: dims, Data: buf}, nil
}

// ReadIDXHeader reads an IDX stream's header (see ReadIDX) and returns its
// dimensions, whose product it has checked to be at most 16 GiB; r is
// then at the first data byte.
func ReadIDXHeader(r io.Reader, name string) ([]int, error) {
	var hdr [4]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, idxErr(name, int64(n), "truncated magic number (want 4 bytes)", err)
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, &FormatError{File: name, Where: "byte 0", Msg: fmt.Sprintf("bad IDX magic %#x (want 0x000008NN)", hdr[:])}
	}
	if hdr[2] != 0x08 {
		return nil, &FormatError{File: name, Where: "byte 2", Msg: fmt.Sprintf("IDX element type %#02x is not supported (want 0x08, unsigned byte)", hdr[2])}
	}
	nd := int(hdr[3])
	if nd < 1 || nd > 4 {
		return nil, &FormatError{File: name, Where: "byte 3", Msg: fmt.Sprintf("%d dimensions (want 1 to 4)", nd)}
	}
	dims := make([]int, nd)
	total := int64(1)
	for i := range dims {
		var b [4]byte
		off := int64(4 + 4*i)
		if n, err := io.ReadFull(r, b[:]); err != nil {
			return nil, idxErr(name, off+int64(n), fmt.Sprintf("truncated header (dimension %d of %d)", i+1, nd), err)
		}
		d := binary.BigEndian.Uint32(b[:])
		if d == 0 || d > 1<<31 {
			return nil, &FormatError{File: name, Where: fmt.Sprintf("byte %d", off), Msg: fmt.Sprintf("dimension %d is %d (want 1 to 2^31)", i+1, d)}
		}
		dims[i] = int(d)
		if total > maxIDX/int64(d) { // checked before multiplying: no overflow

			return nil, &FormatError{File: name, Where: fmt.Sprintf("byte %d", off), Msg: fmt.Sprintf("dimensions %v announce more than %d bytes", dims[:i+1], int64(maxIDX))}
		}
		total *= int64(d)
	}
	return dims, nil
}

func idxErr(name string, off int64, msg string, err error) error {
	var ge *GzipError
	if errors.As(err, &ge) {
		return ge
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &FormatError{File: name, Where: fmt.Sprintf("byte %d", off), Msg: msg, Source: io.ErrUnexpectedEOF}
	}
	return &FormatError{File: name, Where: fmt.Sprintf("byte %d", off), Msg: msg + ": " + err.Error(), Source: err}
}
