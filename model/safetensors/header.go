package safetensors

import (
	"fmt"
	"io"
	"math"
)

// ReadHeader reads a safetensors file's header from r and nothing after
// it: the metadata and every tensor's name, dtype and shape, in
// data-offset order, with nil Data. It checks the header as Parse does
// (length within MaxHeader, JSON, dtypes, shapes against byte counts,
// tensors that tile the data from its start without holes or overlaps)
// but not against the data section, which it does not read: a file cut
// short after its header passes, and so may one with bytes after the last
// tensor. It allocates no more than the header's bytes actually read, so
// a header length that promises more than r holds costs nothing.
func ReadHeader(r io.Reader) (*File, error) {
	var lenBuf [8]byte
	if k, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, &FormatError{Offset: int64(k), Msg: fmt.Sprintf("truncated: %d bytes, shorter than the 8-byte header length", k)}
	}
	n, err := headerLen(lenBuf[:], math.MaxInt64)
	if err != nil {
		return nil, err
	}
	// ReadAll grows its buffer as bytes arrive, not to the length claimed.
	hdr, err := io.ReadAll(io.LimitReader(r, n))
	if err != nil {
		return nil, &FormatError{Offset: 8, Msg: "reading the header: " + err.Error()}
	}
	if int64(len(hdr)) < n {
		return nil, &FormatError{Offset: 8 + int64(len(hdr)), Msg: fmt.Sprintf("truncated: header length %d but only %d bytes follow", n, len(hdr))}
	}
	f, _, err := parseHeader(hdr, -1)
	return f, err
}
