package data

import (
	"errors"
	"fmt"
	"math"
)

// DefaultMaxTableBytes bounds the memory of a CSV table's decoded rows
// (ReadCSV) unless CSVOptions.MaxTableBytes sets another bound: 1 GiB,
// about 38 million rows of three numbers, or a million rows of 130
// features (a larger table needs the bound raised, on purpose). The bound is checked as the
// rows stream by, so that input whose text is small and whose rows are
// many (#25: a 0.9 MB .csv.gz of "0,0,0" rows expanding to 630 MB) stops
// at the row that passes it rather than when memory runs out; the process
// then holds at most the bound and the slack of its slices' growth
// (about 1.25× while they are copied).
const DefaultMaxTableBytes = 1 << 30

// ErrTableTooLarge is the Source of the *FormatError of a table whose
// decoded rows pass their bound (errors.Is), so that a caller can name the
// setting that raises it.
var ErrTableTooLarge = errors.New("the table is larger than its memory bound")

// rowBytes is what one decoded row of a table costs: 8 bytes a feature
// (float64), 8 a regression target or 4 a class code, and 4 for its line
// number.
func rowBytes(features, targets int, classes bool) int64 {
	b := int64(8*features + 8*targets + 4)
	if classes {
		b += 4
	}
	return b
}

// tooLarge is the error of a table whose n-th row passes limit.
func tooLarge(name string, line, n int, row, limit int64) error {
	return &FormatError{File: name, Where: fmt.Sprintf("line %d", line), Source: ErrTableTooLarge,
		Msg: fmt.Sprintf("the table's decoded rows pass their bound of %s at row %d (%d bytes a row: the values, the label and the line number)", sizeText(limit), n, row)}
}

// sizeText writes a byte count in MiB or GiB.
func sizeText(b int64) string {
	if b >= 1<<30 && b%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", b>>30)
	}
	return fmt.Sprintf("%.4g MiB", float64(b)/(1<<20))
}

// line32 is a line number as Dataset.RowLines holds it: a table has at
// most DefaultMaxTableBytes/4 rows at the default bound, but blank lines
// are skipped, so a line past math.MaxInt32 is held as math.MaxInt32 (an
// error message then names that line: "line 2147483647").
func line32(line int) int32 {
	return int32(min(line, math.MaxInt32))
}
