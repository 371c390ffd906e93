// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length N, N bytes of JSON header, then the raw
// little-endian tensor data. The header maps each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// start of the data) and may hold "__metadata__", a map of strings.
//
// Parse checks everything a hostile or damaged file could get wrong —
// truncation, header length, JSON, dtypes, shapes against byte counts,
// offsets that overlap, leave holes or run past the end — and says which
// tensor is at fault. ReadHeader reads the header alone, with the same
// checks but those against the data, which it does not read: what a
// program needs to describe a file, or to choose how to load it, costs
// the header's bytes. Write is deterministic: the same tensors and metadata
// always give the same bytes.
//
// The Data of a parsed Tensor is a view into the buffer that was parsed,
// not a copy: keep that buffer unchanged while the tensors are in use, and
// copy what must outlive it. A File is plain data, safe for concurrent
// reads. The package knows nothing of models; Encode and Decode turn
// float slices into tensor bytes and back, and model and checkpoint build
// parameters, optimizer state and data transforms from them.
// WriteFileAtomic writes a file whole or not at all (through a temporary
// file and a rename), for safetensors files and any other.
//
// ExampleWrite writes two tensors with metadata and reads them back.
package safetensors
