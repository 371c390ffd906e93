package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ptrain/ptrain/data"
)

// tableRows reads a CSV table for a model with a preprocessing (ck.Preprocess):
// each batch of rows is read raw (data.CSVRows.ReadRaw: numbers, missing
// cells, texts), its columns are found by the header's names (or by
// position, without a header) and encoded as the training was
// (data.Preprocess.Apply), so that the stream's rows are the model's
// features, before the feature transform. Memory is one batch of raw
// rows and its encoding, whatever the input's length.
func tableRows(r io.Reader, name string, co csvFlags, comma rune, ck *checkpoint) (*rowStream, error) {
	p := ck.Preprocess
	cr, skip, err := openCSVRows(r, name, co, comma, len(p.Columns), p.ByName)
	if err != nil {
		return nil, err
	}
	raw := &data.Dataset{}
	warned := map[string]bool{}
	fill := func(ds *data.Dataset, n int) error {
		ds.N, ds.F64, ds.U8 = 0, nil, nil
		rerr := cr.ReadRaw(raw, n, skip, p.NA)
		if raw.N == 0 {
			if rerr != nil && rerr != io.EOF {
				return csvHint(rerr, co)
			}
			return rerr
		}
		enc, warns, err := p.Apply(raw)
		if err != nil {
			return fmt.Errorf("%w (the preprocessing of %s)", err, ck.path)
		}
		for _, w := range warns {
			key, once := warningKey(w)
			if !warned[key] {
				warned[key] = true
				if once {
					w += " (in the first batch of rows that had one; later ones are not reported)"
				}
				warnf("%s", w)
			}
		}
		ds.F64, ds.N = enc.F64, enc.N
		if rerr != nil && rerr != io.EOF {
			return csvHint(rerr, co) // with the rows before the bad one
		}
		return rerr
	}
	return &rowStream{name: name, features: p.Features(), fill: fill}, nil
}

// warningKey is what makes a warning of Preprocess.Apply new in a stream
// of batches: the ignored columns' warning is the same text for every
// batch; an unseen category's counts its batch's rows, so its column
// alone is its key, and once says so.
func warningKey(w string) (key string, once bool) {
	i := strings.Index(w, " rows have a category")
	if i < 0 {
		return w, false
	}
	if j := strings.LastIndex(w[:i], ": "); j >= 0 {
		return w[:j], true
	}
	return w, false
}
