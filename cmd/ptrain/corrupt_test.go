package main

import (
	"bytes"
	"context"
	le "encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ptrain/ptrain/model/safetensors"
)

// corruptions are damaged or lying versions of a good checkpoint (Adam,
// z-score transform, 64-16:relu-10:softmax on the digits), each with what
// the error must say.
var corruptions = []struct {
	name string
	want string
	edit func(b []byte) []byte // of the file's bytes
	meta func(f *safetensors.File)
}{
	{name: "empty", want: "truncated", edit: func(b []byte) []byte { return nil }},
	{name: "cut-in-length", want: "truncated", edit: func(b []byte) []byte { return b[:5] }},
	{name: "cut-in-header", want: "truncated: header length", edit: func(b []byte) []byte { return b[:40] }},
	{name: "cut-in-data", want: "truncated: data ends", edit: func(b []byte) []byte { return b[:len(b)-len(b)/3] }},
	{name: "cut-last-byte", want: "truncated", edit: func(b []byte) []byte { return b[:len(b)-1] }},
	{name: "trailing-garbage", want: "bytes after the last tensor", edit: func(b []byte) []byte { return append(b, "garbage"...) }},
	{name: "huge-header-length", want: "exceeds", edit: func(b []byte) []byte { le.LittleEndian.PutUint64(b, 1<<62); return b }},
	{name: "header-length-past-end", want: "truncated: header length", edit: func(b []byte) []byte { le.LittleEndian.PutUint64(b, uint64(len(b))); return b }},
	{name: "flipped-length-byte", want: "safetensors", edit: func(b []byte) []byte { b[0] ^= 0x10; return b }},
	{name: "flipped-header-brace", want: "header", edit: func(b []byte) []byte { b[8] ^= 0xff; return b }},
	{name: "nan-weight", want: `"dense.0.weight": element 3 is NaN`, edit: func(b []byte) []byte {
		f := mustParse(b)
		le.LittleEndian.PutUint32(f.Tensor("dense.0.weight").Data[12:], 0x7fc00000)
		return b
	}},
	{name: "inf-bias", want: `"dense.1.bias": element 0 is +Inf`, edit: func(b []byte) []byte {
		le.LittleEndian.PutUint32(mustParse(b).Tensor("dense.1.bias").Data, 0x7f800000)
		return b
	}},
	{name: "dtype-I32", want: "dtype I32 is not supported", meta: func(f *safetensors.File) {
		f.Tensor("dense.0.weight").DType = "I32"
	}},
	{name: "mixed-dtypes", want: `"dense.1.weight": dtype F64, the other weights are F32`, meta: func(f *safetensors.File) {
		t := f.Tensor("dense.1.weight")
		t.DType, t.Data = "F64", make([]byte, 2*len(t.Data))
	}},
	{name: "optim-dtype", want: `"optim.exp_avg": dtype F64, the weights are F32`, meta: func(f *safetensors.File) {
		t := f.Tensor("optim.exp_avg")
		t.DType, t.Data = "F64", make([]byte, 2*len(t.Data))
	}},
	{name: "optim-length", want: `"optim.exp_avg_sq": shape [5], want [1210]`, meta: func(f *safetensors.File) {
		t := f.Tensor("optim.exp_avg_sq")
		t.Shape, t.Data = []int{5}, t.Data[:20]
	}},
	{name: "negative-second-moment", want: `"optim.exp_avg_sq": element 7 is -1, want a finite value ≥ 0`, meta: func(f *safetensors.File) {
		le.LittleEndian.PutUint32(f.Tensor("optim.exp_avg_sq").Data[28:], math.Float32bits(-1))
	}},
	{name: "unknown-optim-buffer", want: `"optim.velocity": no optimizer keeps such a buffer`, meta: func(f *safetensors.File) {
		t := *f.Tensor("optim.exp_avg")
		t.Name = "optim.velocity"
		f.Tensors = append(f.Tensors, t)
	}},
	{name: "3-classes", want: "names 3 classes, the model's 10 outputs need 10", meta: func(f *safetensors.File) {
		f.Metadata[metaClasses] = `["a","b","c"]`
	}},
	{name: "11-classes", want: "names 11 classes", meta: func(f *safetensors.File) {
		f.Metadata[metaClasses] = `["0","1","2","3","4","5","6","7","8","9","10"]`
	}},
	{name: "repeated-class", want: `class name "1" is empty or repeated`, meta: func(f *safetensors.File) {
		f.Metadata[metaClasses] = `["0","1","1","3","4","5","6","7","8","9"]`
	}},
	{name: "bad-task", want: `"ptrain.task" is "ranking"`, meta: func(f *safetensors.File) { f.Metadata[metaTask] = "ranking" }},
	{name: "scale-length", want: `"data.scale": shape [3], want [64]`, meta: func(f *safetensors.File) {
		t := f.Tensor("data.scale")
		t.Shape, t.Data = []int{3}, t.Data[:24]
	}},
	{name: "scale-inf", want: `"data.scale": element 5 is +Inf`, meta: func(f *safetensors.File) {
		le.LittleEndian.PutUint64(f.Tensor("data.scale").Data[40:], math.Float64bits(math.Inf(1)))
	}},
	{name: "shift-nan", want: `"data.shift": element 0 is NaN`, meta: func(f *safetensors.File) {
		le.LittleEndian.PutUint64(f.Tensor("data.shift").Data, math.Float64bits(math.NaN()))
	}},
	{name: "arch-lies", want: `"dense.0.weight": shape [16 64], the architecture 64-32:relu-10:softmax needs [32 64]`, meta: func(f *safetensors.File) {
		f.Metadata["ptrain.arch"] = "64-32:relu-10:softmax"
	}},
	{name: "arch-garbage", want: `"ptrain.arch"`, meta: func(f *safetensors.File) { f.Metadata["ptrain.arch"] = "64-x" }},
	{name: "extra-layer", want: `"dense.2.weight": the architecture 64-16:relu-10:softmax has 2 dense layers`, meta: func(f *safetensors.File) {
		t := *f.Tensor("dense.1.bias")
		t.Name = "dense.2.weight"
		f.Tensors = append(f.Tensors, t)
	}},
	{name: "huge-batch", want: "-batch 1000000000000: must be in", meta: func(f *safetensors.File) { setConfig(f, "batch", 1e12) }},
	{name: "config-dtype", want: "dtype float64, but the weights are F32", meta: func(f *safetensors.File) { setConfig(f, "dtype", "float64") }},
	{name: "config-lr", want: "learning rate -1", meta: func(f *safetensors.File) { setConfig(f, "lr", -1) }},
	{name: "config-schedule", want: "-schedule", meta: func(f *safetensors.File) { setConfig(f, "schedule", "zigzag") }},
	{name: "config-loss", want: "-loss", meta: func(f *safetensors.File) { setConfig(f, "loss", "bce") }},
	{name: "config-normalize", want: `-normalize "sometimes"`, meta: func(f *safetensors.File) { setConfig(f, "normalize", "sometimes") }},
	{name: "config-not-json", want: `metadata "ptrain.config"`, meta: func(f *safetensors.File) { f.Metadata[metaConfig] = "{" }},
	{name: "negative-epoch", want: "negative count", meta: func(f *safetensors.File) { f.Metadata[metaProgress] = `{"epoch":-1}` }},
	{name: "history-ahead", want: `"ptrain.history": row 2 is for epoch 5`, meta: func(f *safetensors.File) {
		f.Metadata[metaHistory] = `[{"epoch":1},{"epoch":5}]`
	}},
	{name: "history-not-json", want: `metadata "ptrain.history"`, meta: func(f *safetensors.File) { f.Metadata[metaHistory] = "[{" }},
	{name: "best-epoch-ahead", want: "best epoch 9 outside [0, 1]", meta: func(f *safetensors.File) {
		f.Metadata[metaProgress] = `{"epoch":1,"best_epoch":9}`
	}},
}

func mustParse(b []byte) *safetensors.File {
	f, err := safetensors.Parse(b)
	if err != nil {
		panic(err)
	}
	return f
}

func setConfig(f *safetensors.File, key string, v any) {
	var c map[string]any
	_ = json.Unmarshal([]byte(f.Metadata[metaConfig]), &c)
	c[key] = v
	b, _ := json.Marshal(c)
	f.Metadata[metaConfig] = string(b)
}

// TestCorruptCheckpointsOnEveryLoadPath feeds every corruption to info,
// eval, predict, train -resume and train -init: each must fail quickly
// with one message that names the file and what is wrong, and no panic.
func TestCorruptCheckpointsOnEveryLoadPath(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-arch", "64-16:relu-10:softmax", "-normalize", "zscore", "-epochs", "1", "-quiet", "-out", "good.safetensors")
	good, err := os.ReadFile(filepath.Join(dir, "good.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Repeat("1,", 63) + "1\n"
	if err := os.WriteFile(filepath.Join(dir, "rows.csv"), []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	type file struct{ name, path, want string }
	files := []file{{"dev-zero", "/dev/zero", "not a regular file"}, {"directory", dir, "not a regular file"}}
	for _, c := range corruptions {
		b := bytes.Clone(good)
		if c.edit != nil {
			b = c.edit(b)
		} else {
			f := mustParse(b)
			c.meta(f)
			var out bytes.Buffer
			if err := safetensors.Write(&out, f.Tensors, f.Metadata); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			b = out.Bytes()
		}
		p := filepath.Join(dir, c.name+".safetensors")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, file{c.name, p, c.want})
	}
	paths := map[string]func(string) []string{
		"info": func(p string) []string { return []string{"info", p} },
		"eval": func(p string) []string { return []string{"eval", "-model", p} },
		"predict": func(p string) []string {
			return []string{"predict", "-model", p, "-input", "rows.csv", "-csv-header=false"}
		},
		"resume": func(p string) []string { return []string{"train", "-resume", p, "-quiet", "-out", "r.safetensors"} },
		"init": func(p string) []string {
			return []string{"train", "-init", p, "-arch", "64-16:relu-10:softmax", "-epochs", "1", "-quiet", "-out", "i.safetensors"}
		},
	}
	for _, f := range files {
		for how, args := range paths {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			cmd := exec.CommandContext(ctx, binary, args(f.path)...)
			cmd.Dir = dir
			var errb bytes.Buffer
			cmd.Stderr = &errb
			err := cmd.Run()
			cancel()
			errs := errb.String()
			switch {
			case ctx.Err() == context.DeadlineExceeded:
				t.Errorf("%s via %s: still running after 20 s", f.name, how)
			case err == nil:
				t.Errorf("%s via %s: accepted", f.name, how)
			case strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine ") || strings.Contains(errs, "internal error"):
				t.Errorf("%s via %s: panic:\n%s", f.name, how, errs)
			case !strings.Contains(errs, f.path) || !strings.Contains(errs, f.want):
				t.Errorf("%s via %s: %q, want the file name and %q", f.name, how, strings.TrimSpace(errs), f.want)
			case strings.Count(strings.TrimSpace(errs), "\n") > 0:
				t.Errorf("%s via %s: more than one line:\n%s", f.name, how, errs)
			}
		}
	}
}

// An absurd -batch is a usage error; a large one costs no more than the
// data (buffers are sized by the smaller of the batch and the split).
func TestBatchFlagIsBoundedAndBuffersFitTheData(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"train", "-batch", "1000000000000"},
		{"train", "-accum", "1000000000"},
		{"eval", "-model", "m.safetensors", "-batch", "1000000000000"},
	} {
		_, errs, code := ptrain(t, dir, args...)
		if code != 2 || !strings.Contains(errs, "must be in [1,") && !strings.Contains(errs, "want -batch in [1,") {
			t.Errorf("ptrain %s: exit %d, %q; want exit 2 and the bound", strings.Join(args, " "), code, errs)
		}
	}
	mustRun(t, dir, "train", "-batch", "16000000", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	mustRun(t, dir, "eval", "-model", "m.safetensors", "-batch", "16000000")
}

// /dev/zero given for any file ptrain reads is refused quickly. The
// commands run with 2 GB of address space, so that a regression fails
// here instead of eating the machine.
func TestDevZeroForEveryInput(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	for _, args := range [][]string{
		{"info", "/dev/zero"},
		{"eval", "-model", "/dev/zero"},
		{"eval", "-model", "m.safetensors", "-data", "csv:/dev/zero"},
		{"predict", "-model", "/dev/zero", "-input", "x.csv"},
		{"predict", "-model", "m.safetensors", "-input", "/dev/zero"},
		{"train", "-resume", "/dev/zero"},
		{"train", "-init", "/dev/zero"},
		{"train", "-config", "/dev/zero"},
		{"train", "-data", "csv:/dev/zero"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, "sh", "-c", `ulimit -v 2000000 && exec "$@"`, "sh", binary)
		cmd.Args = append(cmd.Args, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() == context.DeadlineExceeded
		cancel()
		msg := strings.TrimSpace(string(out))
		if timedOut || err == nil || !strings.Contains(msg, "/dev/zero") || strings.Contains(msg, "goroutine ") || strings.Count(msg, "\n") > 0 {
			t.Errorf("ptrain %s: %v (timed out: %v): %s", strings.Join(args, " "), err, timedOut, msg)
		}
	}
}
