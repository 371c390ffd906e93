package main

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
)

// predictBatch is how many rows predict reads, transforms and runs
// through the model at a time: its memory is this many rows, whatever the
// input's length.
const predictBatch = 256

// rowStream is predict's input, read a batch at a time: the images of an
// IDX file or the feature rows of a CSV table, raw (before the feature
// transform), each features values wide.
type rowStream struct {
	name     string
	features int
	// key heads the first column, which names each row: "row" (the
	// default, the row's index) or "file" (rowName's, the batch's i-th).
	key     string
	rowName func(i int) string
	// fill replaces ds's rows (ds.U8 or ds.F64, and ds.N) with up to n
	// next ones. Rows and an error may come together: the rows before a
	// bad one. io.EOF (with ds.N 0) ends the input.
	fill  func(ds *data.Dataset, n int) error
	close func() error
}

// openRows opens path ("-" is stdin), gzip-compressed or not, as IDX
// images if it starts with IDX's two zero bytes and as CSV rows
// otherwise, and checks that its rows are inputs wide (a CSV table's
// label columns dropped, see csvRows). A table's rows go through ck's
// preprocessing (tableRows) and come out inputs wide.
func openRows(path string, co csvFlags, comma rune, inputs int, ck *checkpoint) (*rowStream, error) {
	name := path
	var rc io.ReadCloser
	if path == "-" {
		name = "stdin"
		r, err := data.MaybeGzip(predictStdin, name)
		if err != nil {
			return nil, err
		}
		rc = io.NopCloser(r)
	} else {
		var err error
		if rc, err = data.OpenMaybeGzip(path); err != nil {
			return nil, err
		}
	}
	br := bufio.NewReaderSize(rc, 1<<16)
	var src *rowStream
	var err error
	switch p, _ := br.Peek(2); {
	case len(p) == 2 && p[0] == 0 && p[1] == 0 && ck.Preprocess != nil:
		err = fmt.Errorf("%s: IDX images, but %s is a model of a CSV table: give its rows as CSV", name, ck.path)
	case len(p) == 2 && p[0] == 0 && p[1] == 0:
		src, err = idxRows(br, name, inputs, ck)
	case ck.Preprocess != nil:
		src, err = tableRows(br, name, co, comma, ck)
	default:
		src, err = csvRows(br, name, co, comma, inputs)
	}
	if err != nil {
		rc.Close()
		return nil, err
	}
	src.close = rc.Close
	return src, nil
}

// idxRows reads an IDX stream's images one batch at a time: each is the
// product of the dimensions after the first, as many as the first says,
// and nothing may follow them. Their 8-bit pixels are given to ck's model
// in the units it trained on, as image files are (pixelsAsTrained): v/255
// for a model of float pixels in [0, 1]. ck may be nil: 8-bit values.
func idxRows(r io.Reader, name string, inputs int, ck *checkpoint) (*rowStream, error) {
	dims, err := data.ReadIDXHeader(r, name)
	if err != nil {
		return nil, err
	}
	if len(dims) == 1 && inputs != 1 {
		return nil, fmt.Errorf("%s: a label file (1-D IDX of %d values), not images: give predict the images file (…-images-idx3-ubyte…)", name, dims[0])
	}
	features := 1
	for _, d := range dims[1:] {
		features *= d // at most 16 GiB: ReadIDXHeader's bound
	}
	if features != inputs {
		return nil, fmt.Errorf("%s: images of %v = %d values, the model takes %d features", name, dims[1:], features, inputs)
	}
	left, off := dims[0], int64(4+4*len(dims))
	var buf []byte
	var f64 []float64 // the pixels in [0, 1], for a model of such
	fill := func(ds *data.Dataset, n int) error {
		ds.N = 0
		if left == 0 {
			var extra [1]byte
			if k, _ := io.ReadFull(r, extra[:]); k > 0 {
				return &data.FormatError{File: name, Where: fmt.Sprintf("byte %d", off), Msg: fmt.Sprintf("data continues past the %d images that dimensions %v announce", dims[0], dims)}
			}
			return io.EOF
		}
		if buf == nil {
			buf = make([]byte, n*features)
		}
		k := min(n, left)
		got, err := io.ReadFull(r, buf[:k*features])
		if err != nil {
			var ge *data.GzipError
			if errors.As(err, &ge) {
				return ge
			}
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return &data.FormatError{File: name, Where: fmt.Sprintf("byte %d", off+int64(got)), Msg: fmt.Sprintf("file ends inside image %d of the %d that dimensions %v announce", dims[0]-left+got/features+1, dims[0], dims), Source: io.ErrUnexpectedEOF}
			}
			return &data.FormatError{File: name, Where: fmt.Sprintf("byte %d", off+int64(got)), Msg: err.Error(), Source: err}
		}
		left -= k
		off += int64(got)
		ds.U8, ds.F64, ds.N = buf[:got], nil, k
		if ck != nil {
			f64 = ck.streamPixels(ds, f64)
		}
		return nil
	}
	return &rowStream{name: name, features: features, fill: fill}, nil
}

// csvRows reads feature rows: every column, less the label column(s)
// when the rows have them — a header column named like the label, or, by
// index (the last column by default), one column more than the model takes.
func csvRows(r io.Reader, name string, co csvFlags, comma rune, inputs int) (*rowStream, error) {
	cr, skip, err := openCSVRows(r, name, co, comma, inputs, false)
	if err != nil {
		return nil, err
	}
	var buf []float64
	fill := func(ds *data.Dataset, n int) error {
		if buf == nil {
			buf = make([]float64, n*inputs)
		}
		k := 0
		for ; k < n; k++ {
			if err = cr.Next(buf[k*inputs:(k+1)*inputs], skip); err != nil {
				break
			}
		}
		ds.F64, ds.U8, ds.N = buf[:k*inputs], nil, k
		if err != nil && err != io.EOF {
			return csvHint(err, co)
		}
		return err
	}
	return &rowStream{name: name, features: inputs, fill: fill}, nil
}

// csvHint adds the CSV flags to a format error, which may come of them.
func csvHint(err error, co csvFlags) error {
	var fe *data.FormatError
	if errors.As(err, &fe) && !errors.Is(err, data.ErrNotText) {
		return fmt.Errorf("%w (read with -csv-skip %d, -csv-header=%v; the flags mean what they mean for train)", err, co.skip, co.header)
	}
	return err
}

// openCSVRows reads the CSV's header (if any) and first row and chooses
// the columns to skip: the label column(s), named or by index, so that
// inputs columns are left. byName (a table matched by its header's names)
// keeps every column but a label the header names: the preprocessing
// finds its columns among them.
func openCSVRows(r io.Reader, name string, co csvFlags, comma rune, inputs int, byName bool) (*data.CSVRows, []bool, error) {
	cr, err := data.NewCSVRows(r, name, data.CSVOptions{Comma: comma, Skip: co.skip, Header: co.header})
	if err != nil {
		return nil, nil, csvHint(err, co)
	}
	if co.header && data.NumericHeader(cr.Columns) {
		warnNumericHeader(name)
	}
	skip := make([]bool, cr.Width)
	parts := strings.Split(co.label, ",")
	if co.header && len(parts) == 1 && !isInt(co.label) && co.label != "" {
		for j, c := range cr.Columns {
			if c == strings.TrimSpace(co.label) {
				skip[j] = true // the label by name, if the header has it: never parsed
				break
			}
		}
	}
	var kept []int // the columns not skipped, and their names
	var names []string
	for j := range skip {
		if !skip[j] {
			kept = append(kept, j)
			if cr.Columns != nil {
				names = append(names, cr.Columns[j])
			}
		}
	}
	if len(kept) != inputs && !(byName && cr.Columns != nil) {
		cols := labelIndices(parts, names, len(kept))
		if cols == nil || len(kept)-len(cols) != inputs {
			label := "the last column" // the default label column when the model's run named none
			if co.label != "" {
				label = fmt.Sprintf("the label column %s", data.Quote(co.label))
			}
			what := "the model takes %d features"
			if byName {
				what = "the model was trained on %d columns"
			}
			return nil, nil, fmt.Errorf("%s: %d columns per row, "+what+" (with %s dropped it would be %d; check -label, -csv-header and -csv-skip)",
				name, len(kept), inputs, label, len(kept)-len(parts))
		}
		for _, c := range cols {
			skip[kept[c]] = true
		}
	}
	return cr, skip, nil
}

// predict writes one CSV record per input row as it reads them: the
// predicted class and the class probabilities, or the regression outputs
// (in the target's units: a table's target scaling undone).
func predict[T num.Float](ck *checkpoint, src *rowStream, w io.Writer) error {
	m, err := loadModel[T](ck)
	if err != nil {
		return err
	}
	f := src.features
	if f != m.Spec.Inputs {
		return fmt.Errorf("%s: %d features per row, the model takes %d", src.name, f, m.Spec.Inputs)
	}
	out := m.Spec.Outputs()
	cw := csv.NewWriter(w)
	head := []string{cmp.Or(src.key, "row")}
	classes := ck.isClassifier()
	names := ck.classNames()
	if classes {
		head = append(head, "class")
		if out == 1 {
			head = append(head, "p_"+names[len(names)-1])
		} else {
			for _, c := range names {
				head = append(head, "p_"+c)
			}
		}
	} else {
		head = append(head, ck.targetNames()...)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	ws := model.NewWorkspace(m, predictBatch)
	x := make([]T, predictBatch*f)                   // (batch, features), transformed
	ds := &data.Dataset{Name: src.name, Features: f} // the batch's raw rows
	ck.transform().Apply(ds)
	rec := make([]string, 0, len(head))
	for row := 0; ; {
		ferr := src.fill(ds, predictBatch)
		if row == 0 {
			ck.warnInputRange(ds, "-input") // the first batch: a cheap check
		}
		if ds.N > 0 {
			for r := 0; r < ds.N; r++ {
				data.FillRow(ds, r, x[r*f:(r+1)*f])
			}
			pred := ws.Forward(x, ds.N, false) // (batch, out)
			for r := 0; r < ds.N; r++ {
				p := pred[r*out : (r+1)*out]
				if src.rowName != nil {
					rec = append(rec[:0], src.rowName(r))
				} else {
					rec = append(rec[:0], strconv.Itoa(row+r))
				}
				if classes {
					rec = append(rec, names[model.Class(p)])
				}
				for k, v := range p { // a regression output in the target's units
					rec = append(rec, strconv.FormatFloat(ck.Preprocess.UnscaleOutput(k, float64(v)), 'g', 6, 64))
				}
				_ = cw.Write(rec) // its error is sticky: cw.Error below
			}
			row += ds.N
			if err := cw.Error(); err != nil {
				return err // a closed pipe: stop reading
			}
		}
		if ferr == io.EOF {
			break
		}
		if ferr != nil {
			cw.Flush() // the rows before the bad one
			return ferr
		}
	}
	cw.Flush()
	return cw.Error()
}
