package data

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// CSVOptions says how to read a table.
type CSVOptions struct {
	Comma  rune // field delimiter; 0 means ','
	Skip   int  // lines to skip before the header or the data (metadata lines)
	Header bool // the first line after Skip names the columns
	// Label names the target column(s): a header name or a 0-based index,
	// negative counting from the end ("-1" is the last column). Regression
	// may name several, comma-separated. Empty means the last column.
	Label string
	Task  Task
	// Classes, if set, fixes the class names and their order (a trained
	// model's); a label outside them is an error. Otherwise the classes are
	// the distinct labels, sorted numerically if all are numbers.
	Classes []string
	// NoLabel reads features only (prediction input): every column is a
	// feature, except that a header column named by Label (a name, not an
	// index), if there is one, is skipped without being read.
	NoLabel bool
	// Raw reads the feature cells for a Preprocess instead of requiring
	// numbers: a missing cell (one of NA, compared after trimming spaces)
	// is NaN, and a column with a non-numeric cell becomes a text column
	// whose values are indices into the Dataset's Levels.
	Raw bool
	// NA lists the cells Raw reads as missing; nil means DefaultNA.
	NA []string
	// MaxTableBytes bounds the memory of the decoded rows (rowBytes a
	// row); 0 means DefaultMaxTableBytes. A table that passes it fails at
	// that row with a *FormatError whose Source is ErrTableTooLarge.
	MaxTableBytes int64
}

// ErrMetadataLine is the Source of ReadCSV's error when the table's first
// line (after CSVOptions.Skip) has fewer fields than the line after it,
// which is what a line of metadata before the table looks like (as
// scikit-learn's tables start with the row count and the class names).
var ErrMetadataLine = errors.New("the first line is shorter than the next")

// DefaultNA are the cells read as missing values unless CSVOptions.NA
// says otherwise: empty, NA, NaN and ?, as pandas and the UCI tables
// write them.
var DefaultNA = []string{"", "NA", "NaN", "?"}

// ReadCSVFile reads a CSV table from path, gzip-compressed or not.
func ReadCSVFile(path string, opt CSVOptions) (*Dataset, error) {
	r, err := OpenMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return ReadCSV(r, path, opt)
}

// ReadCSV reads a CSV table; name is used in errors and as the dataset's
// name. Every field other than the label must be a finite number.
func ReadCSV(r io.Reader, name string, opt CSVOptions) (*Dataset, error) {
	br := bufio.NewReader(&lineLimit{r: r, name: name})
	if bom, _ := br.Peek(3); string(bom) == "\uFEFF" { // as Excel writes UTF-8
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	}
	cr.FieldsPerRecord = -1 // checked here, with a better message
	cr.ReuseRecord = true
	fail := func(line, col int, format string, args ...any) error {
		where := fmt.Sprintf("line %d", line)
		if col > 0 {
			where += fmt.Sprintf(", column %d", col)
		}
		return &FormatError{File: name, Where: where, Msg: fmt.Sprintf(format, args...)}
	}
	read := func() ([]string, int, error) {
		rec, err := cr.Read()
		line := 0
		if err == nil {
			line, _ = cr.FieldPos(0)
		}
		var pe *csv.ParseError
		var ge *GzipError
		var fe *FormatError
		if errors.As(err, &ge) {
			return nil, line, ge
		}
		if errors.As(err, &fe) {
			return nil, line, fe
		}
		if errors.As(err, &pe) {
			return nil, pe.Line, fail(pe.Line, pe.Column, "%v", pe.Err)
		}
		if err != nil && err != io.EOF {
			return nil, line, &FormatError{File: name, Msg: err.Error(), Source: err}
		}
		return rec, line, err
	}
	for i := 0; i < opt.Skip; i++ {
		if _, _, err := read(); err != nil {
			if err == io.EOF {
				return nil, &FormatError{File: name, Msg: fmt.Sprintf("empty file: nothing after skipping %d line(s)", i)}
			}
			return nil, err
		}
	}
	first, firstLine, err := read()
	if err == io.EOF {
		return nil, &FormatError{File: name, Msg: "empty file"}
	}
	if err != nil {
		return nil, err
	}
	width := len(first)
	var columns []string
	if opt.Header {
		columns = make([]string, len(first)) // trimmed, as the values are
		for j, c := range first {
			columns[j] = strings.TrimSpace(c)
		}
	}
	labelCols, err := labelColumns(opt, columns, width)
	if err != nil {
		return nil, fail(firstLine, 0, "%v", err)
	}
	isLabel := make([]bool, width)
	for _, c := range labelCols {
		isLabel[c] = true
	}
	d := &Dataset{Name: name, Features: width - len(labelCols), Task: opt.Task}
	if opt.NoLabel {
		d.Task = Classification
	}
	for j, c := range columns {
		if !isLabel[j] {
			d.Columns = append(d.Columns, c)
		}
	}
	for j := range width {
		if !isLabel[j] {
			d.Source = append(d.Source, j)
		}
	}
	if columns != nil && !opt.NoLabel {
		for _, c := range labelCols {
			d.LabelColumns = append(d.LabelColumns, columns[c])
		}
	}
	if d.Features == 0 {
		return nil, fail(firstLine, 0, "no feature columns: all %d columns are labels%s", width, delimHint(first, cr.Comma))
	}
	// The rows are held as their values alone, 8 bytes a feature and 4 a
	// label (class names are interned as they stream by), so that a table
	// costs about what its numbers do however it was written (#25: a
	// gzip bomb of "0,0,0" rows once cost 9× its text).
	var labels labelCodes
	known := map[string]bool{} // opt.Classes: a label outside them fails at its line, not at the end
	for _, c := range opt.Classes {
		known[c] = true
	}
	var raw *rawCells
	if opt.Raw {
		raw = newRawCells(d, opt.NA)
	}
	limit := cmp.Or(opt.MaxTableBytes, DefaultMaxTableBytes)
	targets := 0
	if d.Task == Regression && !opt.NoLabel {
		targets = len(labelCols)
	}
	row := rowBytes(d.Features, targets, d.Task == Classification && !opt.NoLabel)
	rec, line := first, firstLine
	if opt.Header {
		rec, line, err = read()
	}
	for ; err != io.EOF; rec, line, err = read() {
		if err != nil {
			return nil, err
		}
		if len(rec) == 1 && rec[0] == "" {
			continue
		}
		if len(rec) != width {
			if d.N == 0 && len(rec) > width {
				// The first line is shorter than the next: a line of
				// metadata before the table, as scikit-learn's have?
				return nil, &FormatError{File: name, Where: fmt.Sprintf("line %d", line), Source: ErrMetadataLine,
					Msg: fmt.Sprintf("%d fields, want %d (as on line %d; if line %d is a metadata line, skip it)", len(rec), width, firstLine, firstLine)}
			}
			return nil, fail(line, 0, "%d fields, want %d (as on line %d)", len(rec), width, firstLine)
		}
		if int64(d.N+1)*row > limit {
			return nil, tooLarge(name, line, d.N+1, row, limit)
		}
		for j, field := range rec {
			if isLabel[j] && opt.NoLabel {
				continue
			}
			if isLabel[j] && d.Task == Classification {
				l := strings.TrimSpace(field)
				if opt.Classes != nil && !known[l] {
					return nil, fail(line, 0, "class %q is not one of the model's classes %q", l, opt.Classes)
				}
				labels.add(l)
				continue
			}
			if raw != nil && !isLabel[j] {
				if err := raw.add(field); err != nil {
					return nil, fail(line, j+1, "field %q %v", field, err)
				}
				continue
			}
			v, perr := strconv.ParseFloat(strings.TrimSpace(field), 64)
			if perr != nil {
				return nil, fail(line, j+1, "field %q is not a number%s", field, delimHint(rec, cr.Comma))
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fail(line, j+1, "field %q is not a finite number", field)
			}
			if isLabel[j] {
				d.Targets = append(d.Targets, v)
			} else {
				d.F64 = append(d.F64, v)
			}
		}
		d.RowLines = append(d.RowLines, line32(line))
		d.N++
		if raw != nil {
			raw.endRow()
		}
	}
	if d.N == 0 && opt.Header {
		return nil, &FormatError{File: name, Msg: "no data rows after the header"}
	}
	if d.N == 0 {
		return nil, &FormatError{File: name, Msg: "no data rows"}
	}
	switch {
	case opt.NoLabel:
	case d.Task == Regression:
		d.Outputs = len(labelCols)
	default:
		if err := d.setClasses(&labels, opt.Classes, fail); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// labelCodes interns class labels as a CSV streams by: each row's label
// is an index into names, in order of first appearance.
type labelCodes struct {
	names []string
	index map[string]int32
	codes []int32
}

func (l *labelCodes) add(s string) {
	c, ok := l.index[s]
	if !ok {
		if l.index == nil {
			l.index = map[string]int32{}
		}
		c = int32(len(l.names))
		s = strings.Clone(s) // not a view of the csv package's whole line
		l.names = append(l.names, s)
		l.index[s] = c
	}
	l.codes = append(l.codes, c)
}

func (d *Dataset) setClasses(l *labelCodes, known []string, fail func(int, int, string, ...any) error) error {
	classes := known
	if classes == nil {
		classes = slices.Clone(l.names)
		sortNumericFirst(classes)
	}
	index := make(map[string]int32, len(classes))
	for i, c := range classes {
		index[c] = int32(i)
	}
	remap := make([]int32, len(l.names))
	for i, name := range l.names {
		c, ok := index[name]
		if !ok {
			row := slices.Index(l.codes, int32(i))
			return fail(int(d.RowLines[row]), 0, "class %q is not one of the model's classes %q", name, classes)
		}
		remap[i] = c
	}
	d.Classes, d.Labels = classes, l.codes
	for i, c := range d.Labels {
		d.Labels[i] = remap[c]
	}
	if len(classes) < 2 && known == nil {
		return fail(int(d.RowLines[0]), 0, "only one class (%q) in the label column: nothing to classify", classes[0])
	}
	return nil
}

// sortNumericFirst sorts names numerically if all are numbers, else as
// strings.
func sortNumericFirst(names []string) {
	numeric := true
	for _, c := range names {
		if _, err := strconv.ParseFloat(c, 64); err != nil {
			numeric = false
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if numeric {
			x, _ := strconv.ParseFloat(a, 64)
			y, _ := strconv.ParseFloat(b, 64)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
		}
		return strings.Compare(a, b)
	})
}

// maxLine bounds a CSV line: the csv package holds a whole line in memory,
// and a file with no line breaks (a binary file, /dev/zero) would
// otherwise be read whole into one.
const maxLine = 16 << 20

// lineLimit fails a read once a line runs past maxLine bytes.
type lineLimit struct {
	r    io.Reader
	name string
	n    int // bytes since the last line break
	line int // line breaks so far
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if i := bytes.LastIndexByte(p[:n], '\n'); i >= 0 {
		l.line += bytes.Count(p[:i+1], []byte{'\n'})
		l.n = n - 1 - i
	} else {
		l.n += n
	}
	if l.n > maxLine {
		return n, &FormatError{File: l.name, Where: fmt.Sprintf("line %d", l.line+1), Msg: fmt.Sprintf("no line break in %d MiB: not a text table", maxLine>>20)}
	}
	return n, err
}

// delimHint is a hint for rows that did not split: a row of one field that
// holds another common delimiter was probably written with it.
func delimHint(rec []string, comma rune) string {
	if len(rec) != 1 {
		return ""
	}
	for _, d := range []rune{';', '\t', '|', ',', ' '} {
		if d != comma && strings.ContainsRune(strings.TrimSpace(rec[0]), d) {
			return fmt.Sprintf(" (the row did not split at %q; it looks delimited by %q: -csv-delim %q)", comma, d, d)
		}
	}
	return ""
}

// labelColumns resolves opt.Label against the header and width.
func labelColumns(opt CSVOptions, header []string, width int) ([]int, error) {
	if opt.NoLabel {
		if c := slices.Index(header, strings.TrimSpace(opt.Label)); opt.Label != "" && c >= 0 {
			return []int{c}, nil // to be skipped
		}
		return nil, nil
	}
	spec := strings.TrimSpace(opt.Label)
	if spec == "" {
		spec = "-1"
	}
	parts := strings.Split(spec, ",")
	if len(parts) > 1 && opt.Task != Regression {
		return nil, fmt.Errorf("label %q names %d columns; only regression takes several", spec, len(parts))
	}
	var cols []int
	for _, p := range parts {
		p = strings.TrimSpace(p)
		c := -1
		if i, err := strconv.Atoi(p); err == nil {
			if i < 0 {
				i += width
			}
			if i < 0 || i >= width {
				return nil, fmt.Errorf("label column %s is out of range: the table has %d columns", p, width)
			}
			c = i
		} else {
			c = slices.Index(header, p)
			if c < 0 {
				if header == nil {
					return nil, fmt.Errorf("label column %q: no header to look names up in (give an index, or read the header)", p)
				}
				return nil, fmt.Errorf("no label column %q among %q", p, header)
			}
		}
		if slices.Contains(cols, c) {
			return nil, fmt.Errorf("label column %s named twice", p)
		}
		cols = append(cols, c)
	}
	return cols, nil
}
