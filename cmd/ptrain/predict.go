package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/data"
)

const predictExamples = `
Examples:
  ptrain predict -model ptrain.safetensors -input rows.csv -csv-header=false
  ptrain predict -model iris.safetensors -input iris.csv -csv-skip 1 -csv-header=false   # the training file: its label column is dropped
  cat rows.csv | ptrain predict -model ptrain.safetensors -input - -csv-header=false
  ptrain predict -model mnist.safetensors -input t10k-images-idx3-ubyte.gz -output predictions.csv
  ptrain predict -model pets.safetensors -input photos/            # file,class,p_... for every image below photos/
  find photos -name '*.jpg' | ptrain predict -model pets.safetensors -input -
`

// cmdPredict is "ptrain predict".
func cmdPredict(ctx context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	path := fs.String("model", "", "checkpoint (required)")
	input := fs.String("input", "", "CSV rows, an IDX image file (gzip or raw), an image file (PNG, JPEG, GIF, BMP, TIFF, WebP) or a folder of them (recursively; rows named by file); - for stdin: rows, or one image path a line (required)")
	output := fs.String("output", "", "write the predictions here instead of stdout")
	co := csvFlags{header: true, delim: ","}
	co.bind(fs, "the label column(s), as for train (default: the training run's -label, else the last column): dropped when the rows have them, so the training file itself can be the input")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain predict -model CKPT -input FILE [flags]\n\nWrites one CSV row per input: the predicted class and every class probability, or the regression outputs\n(in the target's units), as the rows are read: memory does not grow with the input, which may be an\nendless pipe. The CSV flags mean what they mean for train. A table goes through the checkpoint's\npreprocessing: its columns are found by header name, in any order; others are ignored.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), predictExamples)
	}
	if err := parseFlags(fs, args, std.out); err != nil {
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
		inputs := []namedFile{{"-input", *input}, {"-model", *path}}
		if fi, err := os.Stat(*input); err == nil && fi.IsDir() {
			// The images openImages reads: every one below the folder, in
			// class folders or not (not a folder: dataset's listing, which
			// finds nothing in a folder without class folders).
			files, _, _ := data.ImageFiles(*input) // an unreadable folder: openImages reports it
			for _, f := range files {
				inputs = append(inputs, namedFile{"-input", f})
			}
		}
		if err := checkNotInput(namedFile{"-output", *output}, inputs); err != nil {
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
	src, images, err := openImages(*input, ck)
	if err == nil && !images {
		src, err = openRows(*input, co, comma, ck.Spec.Inputs, ck) // the spec readCheckpoint checked
	}
	if err != nil {
		return err
	}
	defer src.close()
	if err := ck.checkTransform(src.name, src.features); err != nil {
		return err
	}
	write := func(w io.Writer) error {
		if ck.DType == "F64" {
			return predict[float64](ck, src, w)
		}
		return predict[float32](ck, src, w)
	}
	if *output == "" {
		return write(std.out)
	}
	return writeFileAtomic(*output, write) // whole, or not at all
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

func isInt(s string) bool { _, err := strconv.Atoi(strings.TrimSpace(s)); return err == nil }
