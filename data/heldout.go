package data

import (
	"crypto/sha256"
	le "encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"slices"
)

// TestSeed is the seed of the test split that TestSplit holds out. It is
// one constant, not a run's seed, so that runs with different seeds, the
// ptrain command and Go programs all hold out the same rows of the same
// data, and a model is never scored on rows another run trained it on.
const TestSeed = 20240601

// SplitInfo records how a model's test rows were held out of its data: a
// checkpoint keeps it, so that an evaluation or a resumed run holds out the
// same rows, or says that it cannot. The zero SplitInfo is unknown.
type SplitInfo struct {
	// Data is the Fingerprint of the whole dataset before the split.
	Data string `json:"data"`
	// Rows is the dataset's sample count before the split.
	Rows int `json:"rows"`
	// Share is the fraction held out as the test set (0: none, or a test
	// set of the dataset's own, which is then not part of Data).
	Share float64 `json:"share"`
	// Seed is the split's seed (Split's seed argument).
	Seed uint64 `json:"seed"`
}

// Known reports whether s records a split.
func (s SplitInfo) Known() bool { return s.Data != "" }

// Short is the fingerprint's first 12 hex digits, for messages.
func (s SplitInfo) Short() string { return shortPrint(s.Data) }

func shortPrint(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// TestSplit holds out share of d as the test set, with TestSeed: the split
// `ptrain train` makes of a dataset without a test set of its own, and the
// one `ptrain eval` scores. It is Split(share, TestSeed), with the record
// of it to save in a checkpoint (checkpoint.Checkpoint.Split). As Split,
// it reorders d in place; share 0 holds out nothing (test is nil).
func (d *Dataset) TestSplit(share float64) (train, test *Dataset, info SplitInfo, err error) {
	return d.SplitRecorded(share, TestSeed)
}

// SplitRecorded is Split with the record of it: the fingerprint of d
// before the split, its row count, share and seed. Holding out the same
// rows later takes the same data (the fingerprint says whether it is),
// SplitRecorded(info.Share, info.Seed).
func (d *Dataset) SplitRecorded(share float64, seed uint64) (train, held *Dataset, info SplitInfo, err error) {
	info = SplitInfo{Data: d.Fingerprint(), Rows: d.N, Share: share, Seed: seed}
	train, held, err = d.Split(share, seed)
	return train, held, info, err
}

// Fingerprint is a SHA-256, in hex, of everything in d that a model learns
// from, in row order: the shape, the raw features (not the transform, which
// is fitted on them), the labels and class names, the targets. Two
// datasets with the same fingerprint train the same model; a row added,
// removed, changed or moved changes it. Take it before Split, which
// reorders the rows. It is the dataset's one content hash: the command
// line's MPI ranks compare each split's, with the transform added.
func (d *Dataset) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "ptrain dataset v1\x00%d %d %v %d\x00", d.N, d.Features, d.Task, d.Outputs)
	for _, c := range d.Classes {
		fmt.Fprintf(h, "%d:%s", len(c), c)
	}
	h.Write([]byte{0})
	h.Write(d.U8)
	WriteFloats(h, d.F64)
	var buf [4 * 1024]byte
	for labels := d.Labels; len(labels) > 0; {
		k := min(len(labels), len(buf)/4)
		for i, l := range labels[:k] {
			le.LittleEndian.PutUint32(buf[4*i:], uint32(l))
		}
		h.Write(buf[:4*k])
		labels = labels[k:]
	}
	WriteFloats(h, d.Targets)
	// A raw table (CSVOptions.Raw) holds a text cell as its index in
	// Levels: the texts are data too ("red" renamed "crimson" changes no
	// index). Only a table with a text column hashes them, so that other
	// datasets' fingerprints stay as they were.
	if slices.ContainsFunc(d.Levels, func(l []string) bool { return l != nil }) {
		h.Write([]byte("levels\x00"))
		for j, l := range d.Levels {
			fmt.Fprintf(h, "%d %d %t\x00", j, len(l), j < len(d.Overflow) && d.Overflow[j])
			for _, s := range l {
				fmt.Fprintf(h, "%d:%s", len(s), s)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// WriteFloats writes s to h as little-endian float64 bits, 512 at a time:
// the byte form every fingerprint of a dataset's values hashes (Fingerprint,
// and the CLI's check that MPI ranks read the same data).
func WriteFloats(h hash.Hash, s []float64) {
	var buf [8 * 512]byte
	for len(s) > 0 {
		k := min(len(s), 512)
		for i, v := range s[:k] {
			le.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
		}
		h.Write(buf[:8*k])
		s = s[k:]
	}
}

// Range is the span [Min, Max] of a model's input values. The zero Range
// is unknown.
type Range struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// Known reports whether r was measured.
func (r Range) Known() bool { return r != Range{} }

// InputRange is the span of d's transformed features (Value) over its
// first rows samples (all of them if rows ≤ 0 or more than N): the check a
// checkpoint's recorded range is compared with costs one batch.
func InputRange(d *Dataset, rows int) Range {
	if rows <= 0 || rows > d.N {
		rows = d.N
	}
	if rows == 0 {
		return Range{}
	}
	r := Range{Min: math.Inf(1), Max: math.Inf(-1)}
	if d.U8 == nil {
		for i := range rows {
			for j := range d.Features {
				v := d.Value(i, j)
				r.Min, r.Max = min(r.Min, v), max(r.Max, v)
			}
		}
		return r
	}
	// Images: the raw extremes of each feature, then the transform of
	// both (affine, so the extremes map to extremes): one pass over bytes.
	f := d.Features
	lo, hi := make([]uint8, f), make([]uint8, f)
	copy(lo, d.U8[:f])
	copy(hi, d.U8[:f])
	for i := 1; i < rows; i++ {
		for j, v := range d.U8[i*f : (i+1)*f] {
			lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
		}
	}
	t := *d
	t.N, t.U8 = 2, append(lo, hi...)
	for j := range f {
		a, b := t.Value(0, j), t.Value(1, j)
		r.Min, r.Max = min(r.Min, a, b), max(r.Max, a, b)
	}
	return r
}

// FarOutside reports whether r lies far outside the training range
// train: beyond it by more than four times train's width (or, for a
// constant input, by more than four times its magnitude, at least 1).
// Pixels 0–255 against a model trained on [0, 1] are; standardised data
// with outliers at 6σ against a training range of ±4σ are not.
func (r Range) FarOutside(train Range) bool {
	if !r.Known() || !train.Known() {
		return false
	}
	w := train.Max - train.Min
	if w <= 0 {
		w = max(1, math.Abs(train.Max))
	}
	return r.Max > train.Max+4*w || r.Min < train.Min-4*w
}

// String is "[min, max]".
func (r Range) String() string { return fmt.Sprintf("[%.4g, %.4g]", r.Min, r.Max) }
