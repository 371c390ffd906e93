package data

import (
	"bytes"
	_ "embed"
	"slices"
	"sync"
)

//go:embed embed/digits.csv.gz
var digitsCSV []byte

// Digits returns the UCI 8x8 handwritten digits embedded in the binary
// (1,797 samples, 64 features, 10 classes), scaled to [0, 1] (the raw
// counts run 0..16). Licence and provenance: embed/LICENSE.md.
//
// The embedded table is parsed once per process; each call returns a
// copy of its own, which the caller may split, permute or change.
func Digits() (*Dataset, error) {
	d, err := parsedDigits()
	if err != nil {
		return nil, err
	}
	return d.clone(), nil
}

// parsedDigits is the parsed table every call copies; nobody writes it.
var parsedDigits = sync.OnceValues(func() (*Dataset, error) {
	r, err := MaybeGzip(bytes.NewReader(digitsCSV), "digits")
	if err != nil {
		return nil, err
	}
	d, err := ReadCSV(r, "digits", CSVOptions{Label: "-1", Classes: digitNames})
	if err != nil {
		return nil, err
	}
	d.Scale = make([]float64, d.Features)
	for j := range d.Scale {
		d.Scale[j] = 1.0 / 16
	}
	return d, nil
})

// clone is a deep copy of d: no slice of it shares storage with d's.
func (d *Dataset) clone() *Dataset {
	c := *d
	c.U8, c.F64 = slices.Clone(d.U8), slices.Clone(d.F64)
	c.Scale, c.Shift = slices.Clone(d.Scale), slices.Clone(d.Shift)
	c.Labels, c.Classes, c.Targets = slices.Clone(d.Labels), slices.Clone(d.Classes), slices.Clone(d.Targets)
	c.Columns, c.RowLines, c.Source = slices.Clone(d.Columns), slices.Clone(d.RowLines), slices.Clone(d.Source)
	c.LabelColumns, c.Overflow = slices.Clone(d.LabelColumns), slices.Clone(d.Overflow)
	c.TargetScale, c.TargetShift = slices.Clone(d.TargetScale), slices.Clone(d.TargetShift)
	if d.Levels != nil {
		c.Levels = make([][]string, len(d.Levels))
		for j, l := range d.Levels {
			c.Levels[j] = slices.Clone(l)
		}
	}
	return &c
}
