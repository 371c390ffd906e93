package data

import (
	"strconv"
	"strings"
)

// NumericHeader reports whether a header line reads as a data row: every
// field (trimmed) parses as a number. Column names are rarely all numbers,
// so a table read with CSVOptions.Header whose header is numeric most
// likely has no header, and its first data row was taken for the names.
func NumericHeader(fields []string) bool {
	if len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err != nil {
			return false
		}
	}
	return true
}
