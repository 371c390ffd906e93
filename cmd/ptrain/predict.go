package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
)

const predictExamples = `
Examples:
  ptrain predict -model ptrain.safetensors -input rows.csv -csv-header=false
  ptrain predict -model iris.safetensors -input iris.csv -csv-skip 1 -csv-header=false   # the training file: its label column is dropped
  cat rows.csv | ptrain predict -model ptrain.safetensors -input - -csv-header=false
  ptrain predict -model mnist.safetensors -input t10k-images-idx3-ubyte.gz -output predictions.csv
`

// cmdPredict is "ptrain predict".
func cmdPredict(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	path := fs.String("model", "", "checkpoint (required)")
	input := fs.String("input", "", "CSV rows, or an IDX image file (gzip or raw); - for stdin (required)")
	output := fs.String("output", "", "write the predictions here instead of stdout")
	co := csvFlags{header: true, delim: ","}
	co.bind(fs, "the label column(s), as for train (default: the training run's -label, else the last column): dropped when the rows have them, so the training file itself can be the input")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain predict -model CKPT -input FILE [flags]\n\nWrites one CSV row per input: the predicted class and every class probability, or the regression outputs\n(in the target's units). The CSV flags mean what they mean for train. A table goes through the\ncheckpoint's preprocessing: its columns are found by header name, in any order; others are ignored.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), predictExamples)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || *input == "" {
		return errUsage{fmt.Errorf("-model CKPT and -input FILE are required (see ptrain predict -h)")}
	}
	comma, err := delimiter(co.delim)
	if err != nil {
		return errUsage{err}
	}
	if co.skip < 0 {
		return errUsage{fmt.Errorf("-csv-skip %d: must be ≥ 0", co.skip)}
	}
	if *output != "" {
		if err := checkOutput("-output", *output); err != nil {
			return err
		}
	}
	ck, err := readCheckpoint(*path)
	if err != nil {
		return err
	}
	if !given(fs)["label"] {
		co.label = ck.cfg.Label
	}
	ds, err := predictInput(ck, *input, co, comma, ck.spec.Inputs) // the spec readCheckpoint checked
	if err != nil {
		return err
	}
	write := func(w io.Writer) error {
		if ck.dtype == "F64" {
			return predict[float64](ck, ds, w)
		}
		return predict[float32](ck, ds, w)
	}
	if *output == "" {
		return write(os.Stdout)
	}
	return writeFileAtomic(*output, write) // whole, or not at all
}

// predictInput reads IDX images or CSV feature rows from path ("-" is
// stdin) and applies the checkpoint's feature transform.
func predictInput(ck *checkpoint, path string, co csvFlags, comma rune, inputs int) (*data.Dataset, error) {
	name := path
	var raw []byte
	if path == "-" {
		name = "stdin"
		r, err := data.MaybeGzip(os.Stdin, name)
		if err != nil {
			return nil, err
		}
		if raw, err = io.ReadAll(r); err != nil {
			return nil, fmt.Errorf("-input -: %w", err)
		}
	}
	var ds *data.Dataset
	var x *data.IDX
	var err error
	if raw != nil {
		x, err = data.ReadIDX(bytes.NewReader(raw), name)
	} else {
		x, err = data.ReadIDXFile(path)
	}
	var fe *data.FormatError
	switch {
	case err == nil:
		n := x.Dims[0]
		ds = &data.Dataset{Name: name, N: n, Features: len(x.Data) / n, U8: x.Data}
	case !errors.As(err, &fe) || !strings.Contains(fe.Msg, "magic"):
		return nil, err
	default: // not IDX: CSV rows
		var r io.Reader = bytes.NewReader(raw)
		if raw == nil {
			rc, err := data.OpenMaybeGzip(path)
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			r = rc
		}
		if ds, err = predictCSV(r, name, co, comma, inputs, ck.prep); err != nil {
			return nil, err
		}
	}
	if ds, err = ck.encode(ds); err != nil {
		return nil, err
	}
	if err := ck.applyTransform(ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// predictCSV reads feature rows: every column, less the label column(s)
// when the rows have them — a header column named like the label, or, by
// index (the last column by default), one column more than the model takes.
// With a table's preprocessing the rows are read raw, inputs is its column
// count, and a header's columns are matched by name later.
func predictCSV(r io.Reader, name string, co csvFlags, comma rune, inputs int, prep *data.Preprocess) (*data.Dataset, error) {
	opt := data.CSVOptions{Comma: comma, Skip: co.skip, Header: co.header, NoLabel: true}
	if prep != nil {
		opt.Raw, opt.NA, inputs = true, prep.NA, len(prep.Columns)
	}
	parts := strings.Split(co.label, ",")
	if co.header && len(parts) == 1 && !isInt(co.label) {
		opt.Label = co.label // skipped if the header has it, never parsed
	}
	ds, err := data.ReadCSV(r, name, opt)
	var fe *data.FormatError
	if errors.As(err, &fe) {
		return nil, fmt.Errorf("%w (read with -csv-skip %d, -csv-header=%v; the flags mean what they mean for train)", err, co.skip, co.header)
	}
	if err != nil {
		return nil, err
	}
	if ds.Features == inputs || (prep != nil && prep.ByName && ds.Columns != nil) {
		return ds, nil
	}
	if cols := labelIndices(parts, ds.Columns, ds.Features); cols != nil && ds.Features-len(cols) == inputs {
		dropColumns(ds, cols)
		return ds, nil
	}
	label := "the last column" // the default label column when the model's run named none
	if co.label != "" {
		label = fmt.Sprintf("the label column %q", co.label)
	}
	return nil, fmt.Errorf("%s: %d columns per row, the model takes %d features (with %s dropped it would be %d; check -label, -csv-header and -csv-skip)",
		name, ds.Features, inputs, label, ds.Features-len(parts))
}

// labelIndices resolves label column specs (names in columns, or indices,
// negative from the end; "" is the last column) over width columns, or
// returns nil if some cannot be resolved.
func labelIndices(parts, columns []string, width int) []int {
	var cols []int
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			p = "-1"
		}
		c := slices.Index(columns, p)
		if i, err := strconv.Atoi(p); err == nil {
			if c = i; i < 0 {
				c = i + width
			}
		}
		if c < 0 || c >= width || slices.Contains(cols, c) {
			return nil
		}
		cols = append(cols, c)
	}
	return cols
}

// dropColumns removes the columns cols from ds's float rows.
func dropColumns(ds *data.Dataset, cols []int) {
	keep := make([]bool, ds.Features)
	for j := range keep {
		keep[j] = !slices.Contains(cols, j)
	}
	f := ds.F64[:0]
	for i := 0; i < ds.N; i++ {
		for j, k := range keep {
			if k {
				f = append(f, ds.F64[i*ds.Features+j])
			}
		}
	}
	ds.F64, ds.Columns, ds.Features = f, kept(ds.Columns, keep), ds.Features-len(cols)
	ds.Source, ds.Levels, ds.Overflow = kept(ds.Source, keep), kept(ds.Levels, keep), kept(ds.Overflow, keep)
}

// kept is the elements of s whose keep is true (nil for a nil s).
func kept[E any](s []E, keep []bool) []E {
	var k []E
	for j, v := range s {
		if keep[j] {
			k = append(k, v)
		}
	}
	return k
}

func isInt(s string) bool { _, err := strconv.Atoi(strings.TrimSpace(s)); return err == nil }

func predict[T num.Float](ck *checkpoint, ds *data.Dataset, w io.Writer) error {
	m, err := loadModel[T](ck)
	if err != nil {
		return err
	}
	if ds.Features != m.Spec.Inputs {
		return fmt.Errorf("%s: %d features per row, the model takes %d", ds.Name, ds.Features, m.Spec.Inputs)
	}
	out := m.Spec.Outputs()
	cw := csv.NewWriter(w)
	head := []string{"row"}
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
		for j := 0; j < out; j++ {
			head = append(head, "y"+strconv.Itoa(j))
		}
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, 0, len(head))
	err = forEachPrediction(m, ds, func(i int, row []T) error {
		rec = append(rec[:0], strconv.Itoa(i))
		if classes {
			rec = append(rec, names[model.Class(row)])
		}
		for k, v := range row {
			rec = append(rec, strconv.FormatFloat(ck.prep.UnscaleOutput(k, float64(v)), 'g', 6, 64))
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
