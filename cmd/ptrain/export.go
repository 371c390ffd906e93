package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/onnx"
)

const exportExamples = `
Examples:
  ptrain export -model ptrain.safetensors -out digits.onnx
  ptrain export -model cnn.safetensors -out cnn.onnx -fold-bn
  ptrain info digits.onnx                     # its input, output and operators
  node examples/onnxruntime/run.js digits.onnx rows.csv   # onnxruntime prints what predict prints
`

// cmdExport is "ptrain export".
func cmdExport(args []string, std stdio) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	path := fs.String("model", "", "checkpoint (required)")
	out := fs.String("out", "", "the ONNX model to write, NAME.onnx (required)")
	fold := fs.Bool("fold-bn", false, "fold each batch norm that follows a conv or dense layer without activation, whose output nothing else reads (not a residual block's input), into its weights, instead of a BatchNormalization node")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: ptrain export -model CKPT -out MODEL.onnx [-fold-bn]

Writes the checkpoint's model as ONNX (IR %d, opset %d) for onnxruntime and other runtimes.
Its input "input" is float32 [batch, F] or [batch, C, H, W]: the raw rows predict reads,
the checkpoint's feature transform is part of the graph. For a model of a CSV table the input
is the features its preprocessing makes (ptrain info lists them): numbers, one 0/1 feature per
category (the caller one-hot encodes text), 0 for the _missing indicators; a missing cell is
NaN, which the graph imputes and marks as predict does. Its output "output" is float32
[batch, outputs]: what predict prints after its class column (probabilities, or regression
outputs in the target's units). Dropout is left out; a float64 checkpoint is exported as
float32. The metadata holds the spec, classes and training provenance that ptrain info shows.

Flags:
`, onnx.IRVersion, onnx.OpsetVersion)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), exportExamples)
	}
	if err := parseFlags(fs, args, std.out); err != nil {
		return err
	}
	if *path == "" || *out == "" {
		return errUsage{fmt.Errorf("-model CKPT and -out MODEL.onnx are required (see ptrain export -h)")}
	}
	claimed, err := claim([]output{{"-out", *out, []string{".onnx"}, []namedFile{{"-model", *path}}}}, func(format string, a ...any) { fmt.Fprintf(std.err, format+"\n", a...) })
	if err != nil {
		return err
	}
	defer claimed.release()
	ck, err := readCheckpoint(*path) // the checks and errors of info, predict, eval
	if err != nil {
		return err
	}
	if ck.Preprocess != nil {
		names := ck.Preprocess.FeatureNames()
		if len(names) > 8 { // a one-hot column may make hundreds
			names = append(names[:8:8], fmt.Sprintf("… %d more", len(names)-8))
		}
		fmt.Fprintf(std.err, "ptrain export: note: %s is a model of a CSV table: the ONNX model's input is the %d features its preprocessing makes (%s), not the table's columns (a missing cell as NaN, imputed in the graph; text one-hot encoded by the caller); ptrain info lists them\n", *path, ck.Preprocess.Features(), strings.Join(names, ", "))
	}
	opt := onnx.Options{FoldBatchNorm: *fold, ProducerVersion: version, Meta: map[string]string{"ptrain.dtype": string(ck.DType)}}
	var b []byte
	if ck.DType == "F64" {
		fmt.Fprintf(std.err, "ptrain export: note: %s holds float64 weights; the ONNX model is float32 (each weight rounded once)\n", *path)
		b, err = encodeONNX[float64](ck, opt)
	} else {
		b, err = encodeONNX[float32](ck, opt)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	if err := writeFileAtomic(*out, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "ONNX model written to %s (%d bytes; input %q, output %q)\n", *out, len(b), onnx.InputName, onnx.OutputName)
	return nil
}

// encodeONNX is onnx.Encode of the checkpoint, with the command's metadata
// less the run's history (every epoch's figures: the training log, not
// the model's provenance, which ptrain info shows).
func encodeONNX[T num.Float](ck *checkpoint, opt onnx.Options) ([]byte, error) {
	c, err := decoded[T](ck)
	if err != nil {
		return nil, err
	}
	cc := *c
	cc.Meta = maps.Clone(c.Meta)
	delete(cc.Meta, metaHistory)
	return onnx.Encode(&cc, opt)
}
