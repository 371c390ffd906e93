package data

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// MaxLevels bounds the distinct texts kept for one text column of a raw
// table (CSVOptions.Raw). A column with more is an identifier or free
// text, not a category: one-hot encoding it would make a feature per row.
// Its cells are then not kept (they read as NaN) and Overflow marks it, so
// that a Preprocess refuses it unless it is dropped.
const MaxLevels = 4096

// rawCells reads the feature cells of a raw table as a CSV streams by. A
// cell is appended to d.F64 as a number, as NaN when it is missing, or, in
// a text column, as the index of its text in d.Levels[j]. A column turns
// into a text column at its first non-numeric cell; the numbers it held
// before are then re-read as their canonical text (canonical).
type rawCells struct {
	d     *Dataset
	na    map[string]bool
	col   int              // feature column of the next cell
	index []map[string]int // per text column: text → level
}

func newRawCells(d *Dataset, na []string) *rawCells {
	if na == nil {
		na = DefaultNA
	}
	r := &rawCells{d: d, na: map[string]bool{}, index: make([]map[string]int, d.Features)}
	for _, s := range na {
		r.na[strings.TrimSpace(s)] = true
	}
	d.Levels, d.Overflow = make([][]string, d.Features), make([]bool, d.Features)
	return r
}

// canonical is the text of a number in a text column: "1.0" and "1" are
// the same category, as they are the same value.
func canonical(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// add reads the next feature cell of the current row.
func (r *rawCells) add(field string) error {
	j := r.col
	r.col++
	d := r.d
	s := strings.TrimSpace(field)
	if r.na[s] || d.Overflow[j] {
		d.F64 = append(d.F64, math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
		return errors.New("is not a finite number (give -na " + strconv.Quote(s) + " to read it as missing)")
	}
	if r.index[j] == nil && err == nil {
		d.F64 = append(d.F64, v)
		return nil
	}
	if r.index[j] == nil {
		r.toText(j)
	}
	if err == nil {
		s = canonical(v)
	}
	d.F64 = append(d.F64, r.level(j, s))
	return nil
}

// level is the index of text s in column j, interned if new, or NaN once
// the column has more than MaxLevels texts.
func (r *rawCells) level(j int, s string) float64 {
	d := r.d
	if d.Overflow[j] {
		return math.NaN()
	}
	if k, ok := r.index[j][s]; ok {
		return float64(k)
	}
	if len(d.Levels[j]) == MaxLevels {
		d.Overflow[j], d.Levels[j], r.index[j] = true, nil, map[string]int{}
		for i := j; i < len(d.F64); i += d.Features {
			d.F64[i] = math.NaN()
		}
		return math.NaN()
	}
	s = strings.Clone(s) // not a view of the csv package's whole line
	r.index[j][s] = len(d.Levels[j])
	d.Levels[j] = append(d.Levels[j], s)
	return float64(len(d.Levels[j]) - 1)
}

// toText makes column j a text column: the numbers of the rows read so far
// become the levels of their canonical texts.
func (r *rawCells) toText(j int) {
	d := r.d
	r.index[j], d.Levels[j] = map[string]int{}, []string{}
	for i := j; i < d.N*d.Features; i += d.Features {
		if v := d.F64[i]; !math.IsNaN(v) {
			d.F64[i] = r.level(j, canonical(v))
		}
	}
}

// endRow ends a row.
func (r *rawCells) endRow() { r.col = 0 }
