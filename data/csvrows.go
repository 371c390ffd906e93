package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// CSVRows reads a table's feature rows one at a time, for input of any
// length in bounded memory: a line (at most 16 MiB) and one row's fields.
// It is ReadCSV's reader without the table: no labels, no classes. Input
// with a NUL byte is not text and is refused where the byte is, so a
// binary stream fails in its first buffer rather than after 16 MiB.
//
// A CSVRows is not safe for concurrent use.
type CSVRows struct {
	Name    string
	Columns []string // the header's names; nil without a header
	Width   int      // fields per row: the header's, else the first row's
	Line    int      // the line of the row Next last read

	cr      *csv.Reader
	text    *textOnly
	pending []string // the first data row, read to learn Width
	pLine   int
	rows    int
}

// NewCSVRows reads past opt.Skip lines and, with opt.Header, the header,
// and learns the width of the rows. Only Comma, Skip and Header are used.
func NewCSVRows(r io.Reader, name string, opt CSVOptions) (*CSVRows, error) {
	text := &textOnly{r: r, name: name}
	br := bufio.NewReader(&lineLimit{r: text, name: name})
	if bom, _ := br.Peek(3); string(bom) == "\uFEFF" { // as Excel writes UTF-8
		_, _ = br.Discard(3)
	}
	c := &CSVRows{Name: name, cr: csv.NewReader(br), text: text}
	if opt.Comma != 0 {
		c.cr.Comma = opt.Comma
	}
	c.cr.FieldsPerRecord = -1 // checked in Next, with a better message
	c.cr.ReuseRecord = true
	for i := 0; i < opt.Skip; i++ {
		if _, err := c.read(); err != nil {
			if err == io.EOF {
				return nil, &FormatError{File: name, Msg: fmt.Sprintf("empty file: nothing after skipping %d line(s)", i)}
			}
			return nil, err
		}
	}
	first, err := c.read()
	if err == io.EOF {
		return nil, &FormatError{File: name, Msg: "empty file"}
	}
	if err != nil {
		return nil, err
	}
	c.Width = len(first)
	if opt.Header {
		c.Columns = slices.Clone(first)
	} else {
		c.pending, c.pLine = slices.Clone(first), c.Line
	}
	return c, nil
}

// read is the next record, with c.Line set to its line.
func (c *CSVRows) read() ([]string, error) {
	rec, err := c.cr.Read()
	if c.text.err != nil {
		// Before the record: csv.Reader parses the text before the NUL
		// byte, and bufio forgets the error once it has returned it.
		return nil, c.text.err
	}
	var pe *csv.ParseError
	var ge *GzipError
	var fe *FormatError
	switch {
	case err == nil:
		c.Line, _ = c.cr.FieldPos(0)
		return rec, nil
	case err == io.EOF:
		return nil, io.EOF
	case errors.As(err, &ge):
		return nil, ge
	case errors.As(err, &fe):
		return nil, fe
	case errors.As(err, &pe):
		c.Line = pe.Line
		return nil, c.fail(pe.Column, "%v", pe.Err)
	}
	return nil, &FormatError{File: c.Name, Msg: err.Error(), Source: err}
}

func (c *CSVRows) fail(col int, format string, args ...any) error {
	where := fmt.Sprintf("line %d", c.Line)
	if col > 0 {
		where += fmt.Sprintf(", column %d", col)
	}
	return &FormatError{File: c.Name, Where: where, Msg: fmt.Sprintf(format, args...)}
}

// Next parses the next row into dst, every column j but those with
// skip[j] (skip is nil or Width long; dst holds the columns kept). Every
// kept field must be a finite number. After the last row it returns
// io.EOF, or a *FormatError if there was no data row at all.
func (c *CSVRows) Next(dst []float64, skip []bool) error {
	rec, err := c.record()
	if err != nil {
		return err
	}
	k := 0
	for j, field := range rec {
		if skip != nil && skip[j] {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(field), 64)
		if err != nil {
			return c.fail(j+1, "field %s is not a number%s", Quote(field), delimHint(rec, c.cr.Comma))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return c.fail(j+1, "field %s is not a finite number", Quote(field))
		}
		dst[k] = v
		k++
	}
	c.rows++
	return nil
}

// record is the next data row's fields, Width of them, skipping blank
// lines; io.EOF after the last, a *FormatError if there was none at all.
func (c *CSVRows) record() ([]string, error) {
	rec := c.pending
	if rec != nil {
		c.pending, c.Line = nil, c.pLine
	} else {
		var err error
		for {
			if rec, err = c.read(); err != nil {
				break
			}
			if len(rec) != 1 || rec[0] != "" {
				break
			}
		}
		if err == io.EOF && c.rows == 0 {
			if c.Columns != nil {
				return nil, &FormatError{File: c.Name, Msg: "no data rows after the header"}
			}
			return nil, &FormatError{File: c.Name, Msg: "no data rows"}
		}
		if err != nil {
			return nil, err
		}
	}
	if len(rec) != c.Width {
		return nil, c.fail(0, "%d fields, want %d (as on the first row)", len(rec), c.Width)
	}
	return rec, nil
}

// Quote is strconv.Quote of s, or of its first 100 bytes and a note of
// its length: an error line quotes a bad value, never a whole megabyte.
func Quote(s string) string {
	const limit = 100
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(strings.ToValidUTF8(s[:limit], "")), len(s))
}

// ErrNotText is the Source of a *FormatError for input that is binary
// data, not a text table (errors.Is finds it).
var ErrNotText = errors.New("not text")

// textOnly fails a read at the first NUL byte: no text table has one,
// and every binary format (images, archives, /dev/zero) has them early.
type textOnly struct {
	r    io.Reader
	name string
	off  int64
	err  error // sticky, once a NUL byte was seen
}

func (t *textOnly) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.r.Read(p)
	if i := bytes.IndexByte(p[:n], 0); i >= 0 {
		t.err = &FormatError{File: t.name, Where: fmt.Sprintf("byte %d", t.off+int64(i)), Msg: "a NUL byte: binary data, not a text table", Source: ErrNotText}
		return i, t.err
	}
	t.off += int64(n)
	return n, err
}
