package data

import (
	"bytes"
	_ "embed"
)

//go:embed embed/digits.csv.gz
var digitsCSV []byte

// Digits returns the UCI 8x8 handwritten digits embedded in the binary
// (1,797 samples, 64 features, 10 classes), scaled to [0, 1] (the raw
// counts run 0..16). Licence and provenance: embed/LICENSE.md.
func Digits() (*Dataset, error) {
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
}
