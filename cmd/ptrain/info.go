package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	ckpt "github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/onnx"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// cmdInfo is "ptrain info".
func cmdInfo(args []string, std stdio) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, `print one JSON object ("event": "info"): tensors, architecture, and the metadata with config and progress as objects`)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain info [-json] FILE\n\nPrints a checkpoint's architecture, parameter count, classes and training provenance,\nand the tensors (name, dtype, shape) of any safetensors file; for an ONNX model (ptrain export's\nor another), its inputs, outputs, operators and metadata.\n\nExamples:\n  ptrain info ptrain.safetensors\n  ptrain info digits.onnx\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args, "one checkpoint path", std.out); err != nil {
		return err
	}
	path := fs.Arg(0)
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		return infoONNX(std.out, path, *asJSON)
	}
	b, err := safetensors.ReadFile(path)
	if err != nil {
		if looksLikeONNX(path) { // an ONNX model by another name
			return infoONNX(std.out, path, *asJSON)
		}
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
		return printJSON(std.out, infoJSON(path, b, ck, merr))
	}
	tw := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", path)
	if merr != nil {
		fmt.Fprintf(tw, "model\tnone: %v\n", merr)
	} else {
		layout, _ := ck.Spec.Layout() // checked by decodeCheckpoint
		fmt.Fprintf(tw, "architecture\t%s\n", ck.Spec)
		fmt.Fprintf(tw, "parameters\t%d (%s)\n", layout.NumParams, ck.DType)
		summary(tw, layout)
		if ck.Preprocess != nil {
			fmt.Fprintf(tw, "preprocessing\t%d input columns → %d features, fitted on the training split\n", len(ck.Preprocess.Columns), ck.Preprocess.Features())
			for _, line := range ck.Preprocess.Describe() {
				fmt.Fprintf(tw, "  %s\n", line)
			}
		}
	}
	for _, k := range []string{metaTask, metaClasses, metaOutputs, metaTargetNames, metaPixels, ckpt.MetaOptimizer, metaProgress, ckpt.MetaSplit, ckpt.MetaBatch, ckpt.MetaInputRange, metaCreated, metaVersion, metaBackend, metaConfig} {
		v, ok := b.Metadata[k]
		switch {
		case !ok:
			continue
		case k == ckpt.MetaOptimizer && ck != nil && ck.Optimizer != nil:
			// The method and the hyperparameters it uses, as the run
			// printed them: not momentum's unused betas.
			v = describeOptimizer(*ck.Optimizer) + describeSchedule(ck.Optimizer.Schedule)
		case k == ckpt.MetaSplit && ck != nil:
			v = fmt.Sprintf("%g of %d rows held out for test, seed %d, data fingerprint %s", ck.Split.Share, ck.Split.Rows, ck.Split.Seed, ck.Split.Data)
		case k == ckpt.MetaInputRange && ck != nil:
			v = ck.InputRange.String()
		case k == metaProgress && ck != nil:
			v = describeProgress(ck.Progress) // -json has the raw record, the running sums' bits too
		}
		fmt.Fprintf(tw, "%s\t%s\n", strings.TrimPrefix(k, "ptrain."), v)
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
		obj["arch"], obj["parameters"], obj["dtype"] = ck.Spec.String(), ck.Spec.NumParams(), ck.DType
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

// infoONNX prints what an ONNX model holds: format and producer, the
// graph's inputs and outputs, its operators with their node counts, its
// initializers and its metadata (a ptrain export's: the spec, classes and
// provenance, as info prints them for the checkpoint).
func infoONNX(stdout io.Writer, path string, asJSON bool) error {
	s, err := onnx.ReadFile(path)
	if err != nil {
		return err
	}
	opsets := make([]string, len(s.Opsets))
	for i, o := range s.Opsets {
		opsets[i] = cmp.Or(o.Domain, "ai.onnx") + " " + strconv.FormatInt(o.Version, 10)
	}
	ops := make([]string, len(s.Operators))
	for i, o := range s.Operators {
		ops[i] = fmt.Sprintf("%s ×%d", o.Op, o.Count)
	}
	if asJSON {
		type value struct {
			Name  string   `json:"name"`
			DType string   `json:"dtype"`
			Shape []string `json:"shape"`
		}
		values := func(vs []onnx.Value) []value {
			out := []value{}
			for _, v := range vs {
				out = append(out, value{v.Name, v.ElemType, v.Dims})
			}
			return out
		}
		opc := map[string]int{}
		for _, o := range s.Operators {
			opc[o.Op] = o.Count
		}
		meta := map[string]string{}
		for _, kv := range s.Metadata {
			meta[kv.Key] = kv.Value
		}
		return printJSON(stdout, map[string]any{"event": "info", "file": path, "format": "onnx", "ir_version": s.IRVersion, "opsets": opsets,
			"producer": strings.TrimSpace(s.ProducerName + " " + s.ProducerVersion), "inputs": values(s.Inputs), "outputs": values(s.Outputs),
			"operators": opc, "nodes": s.Nodes, "initializers": s.Initializers, "weights": s.Weights, "metadata": meta})
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", path)
	fmt.Fprintf(tw, "format\tONNX, IR version %d, opset %s\n", s.IRVersion, strings.Join(opsets, ", "))
	if p := strings.TrimSpace(s.ProducerName + " " + s.ProducerVersion); p != "" {
		fmt.Fprintf(tw, "producer\t%s\n", p)
	}
	for _, v := range s.Inputs {
		fmt.Fprintf(tw, "input\t%s\n", v)
	}
	for _, v := range s.Outputs {
		fmt.Fprintf(tw, "output\t%s\n", v)
	}
	fmt.Fprintf(tw, "operators\t%s\n", strings.Join(ops, ", "))
	fmt.Fprintf(tw, "nodes\t%d\n", s.Nodes)
	fmt.Fprintf(tw, "initializers\t%d (%d values)\n", s.Initializers, s.Weights)
	for _, kv := range s.Metadata {
		fmt.Fprintf(tw, "%s\t%s\n", strings.TrimPrefix(kv.Key, "ptrain."), kv.Value)
	}
	return tw.Flush()
}

// looksLikeONNX reports whether path is a regular file that parses as an
// ONNX model and starts as encoders write one: with its ir_version (field
// 1, a varint: byte 0x08).
func looksLikeONNX(path string) bool {
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	var first [1]byte
	_, err = io.ReadFull(f, first[:])
	f.Close()
	if err != nil || first[0] != 0x08 {
		return false
	}
	_, err = onnx.ReadFile(path)
	return err == nil
}

// describeSchedule is ", schedule …" for the learning-rate schedule an
// optimizer holds: its kind and figures as -schedule has them, the cosine
// period, the epoch length in steps and the warm-up; "" for none.
func describeSchedule(s optim.Schedule) string {
	if s == (optim.Schedule{}) {
		return ""
	}
	d := ", schedule " + scheduleFlag(s)
	if s.Kind == optim.Cosine && s.Epochs == 1 {
		d += " over 1 epoch"
	} else if s.Kind == optim.Cosine && s.Epochs > 0 {
		d += fmt.Sprintf(" over %g epochs", s.Epochs)
	}
	if s.StepsPerEpoch > 0 && s.Kind == optim.Cosine && s.Epochs > 0 {
		d += fmt.Sprintf(" of %d steps", s.StepsPerEpoch)
	} else if s.StepsPerEpoch > 0 {
		d += fmt.Sprintf(", epochs of %d steps", s.StepsPerEpoch)
	}
	if s.Warmup > 0 {
		d += fmt.Sprintf(", warm-up %d steps", s.Warmup)
	}
	return d
}

// describeProgress is where a run stands, for info: the epochs done, the
// step reached in the next (whose running sums the checkpoint holds, for
// its metrics row) and the best validation loss so far.
func describeProgress(p parallel.Progress) string {
	d := fmt.Sprintf("%d epochs done", p.Epoch)
	if p.Epoch == 1 {
		d = "1 epoch done"
	}
	if p.Batch > 0 {
		d += fmt.Sprintf(", %d steps into epoch %d (its running figures saved)", p.Batch, p.Epoch+1)
	}
	if p.BestEpoch > 0 {
		since := fmt.Sprintf("%d epochs since", p.BadEpochs)
		if p.BadEpochs == 1 {
			since = "1 epoch since"
		}
		d += fmt.Sprintf("; best validation loss %.6g at epoch %d, %s", p.BestValLoss, p.BestEpoch, since)
	}
	return d
}
