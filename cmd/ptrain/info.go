package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	ckpt "github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
)

// cmdInfo is "ptrain info".
func cmdInfo(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, `print one JSON object ("event": "info"): tensors, architecture, and the metadata with config and progress as objects`)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain info [-json] FILE\n\nPrints a checkpoint's architecture, parameter count, classes and training provenance,\nand the tensors (name, dtype, shape) of any safetensors file.\n\nExample:\n  ptrain info ptrain.safetensors\n")
	}
	if err := parseArgs(fs, args, "one checkpoint path"); err != nil {
		return err
	}
	path := fs.Arg(0)
	b, err := safetensors.ReadFile(path)
	if err != nil {
		return err
	}
	// Any safetensors file is listed; a ptrain model also gets its layers,
	// after a check of everything it says (as every load path does), with
	// the element type of its weights.
	var ck *checkpoint
	merr := fmt.Errorf("no %q in the metadata: the architecture is unknown", model.MetaArch)
	if _, ok := b.Metadata[model.MetaArch]; ok {
		if ck, err = decodeCheckpoint(path, b); err != nil {
			return err
		}
		merr = nil
	}
	if *asJSON {
		return printJSON(os.Stdout, infoJSON(path, b, ck, merr))
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", path)
	if merr != nil {
		fmt.Fprintf(tw, "model\tnone: %v\n", merr)
	} else {
		layout, _ := ck.spec.Layout() // checked by decodeCheckpoint
		fmt.Fprintf(tw, "architecture\t%s\n", ck.spec)
		fmt.Fprintf(tw, "parameters\t%d (%s)\n", layout.NumParams, ck.dtype)
		summary(tw, layout)
		if ck.prep != nil {
			fmt.Fprintf(tw, "preprocessing\t%d input columns → %d features, fitted on the training split\n", len(ck.prep.Columns), ck.prep.Features())
			for _, line := range ck.prep.Describe() {
				fmt.Fprintf(tw, "  %s\n", line)
			}
		}
	}
	for _, k := range []string{metaTask, metaClasses, metaOutputs, ckpt.MetaOptimizer, metaProgress, metaCreated, metaVersion, metaBackend, metaConfig} {
		if v, ok := b.Metadata[k]; ok {
			fmt.Fprintf(tw, "%s\t%s\n", strings.TrimPrefix(k, "ptrain."), v)
		}
	}
	fmt.Fprintf(tw, "tensors\t%d\n", len(b.Tensors))
	for _, t := range b.Tensors {
		fmt.Fprintf(tw, "  %s\t%s %v\n", t.Name, t.DType, t.Shape)
	}
	return tw.Flush()
}

// infoJSON is info's JSON object. Metadata values that hold JSON (the
// config, the progress, the classes) are nested as JSON, not as strings.
func infoJSON(path string, f *safetensors.File, ck *checkpoint, merr error) map[string]any {
	type tensor struct {
		Name  string `json:"name"`
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
	}
	ts := []tensor{}
	for _, t := range f.Tensors {
		ts = append(ts, tensor{t.Name, t.DType, t.Shape})
	}
	obj := map[string]any{"event": "info", "file": path, "tensors": ts, "ptrain_model": merr == nil}
	if merr != nil {
		obj["model_error"] = merr.Error()
	} else {
		obj["arch"], obj["parameters"], obj["dtype"] = ck.spec.String(), ck.spec.NumParams(), ck.dtype
	}
	meta := map[string]any{}
	for k, v := range f.Metadata {
		var js json.RawMessage
		if strings.HasPrefix(k, "ptrain.") && (strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[")) && json.Unmarshal([]byte(v), &js) == nil {
			meta[k] = js
		} else {
			meta[k] = v
		}
	}
	for key, name := range map[string]string{metaConfig: "config", metaProgress: "progress", metaClasses: "classes", ckpt.MetaPreprocess: "preprocess"} {
		if v, ok := meta[key]; ok {
			obj[name] = v
			delete(meta, key)
		}
	}
	obj["metadata"] = meta
	return obj
}
