package main

import (
	"bytes"
	"context"
	le "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ckpt "github.com/ptrain/ptrain/checkpoint"
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
	{name: "optimizer-lies", want: `"ptrain.optimizer": sgd keeps the state none, the file has optim.exp_avg, optim.exp_avg_sq`, meta: func(f *safetensors.File) {
		f.Metadata[ckpt.MetaOptimizer] = `{"method":"sgd","lr":0.01}`
	}},
	{name: "optimizer-disagrees", want: `metadata "ptrain.optimizer" says adam lr 0.5 betas (0.9, 0.999) eps 1e-08, "ptrain.config" says adam lr 0.001`, meta: func(f *safetensors.File) {
		f.Metadata[ckpt.MetaOptimizer] = `{"method":"adam","lr":0.5,"beta1":0.9,"beta2":0.999,"eps":1e-8}`
	}},
	{name: "best-epoch-ahead", want: "best epoch 9 outside [0, 1]", meta: func(f *safetensors.File) {
		f.Metadata[metaProgress] = `{"epoch":1,"best_epoch":9}`
	}},
	{name: "schedule-kind", want: `"ptrain.optimizer": unknown schedule kind "zigzag"`, meta: func(f *safetensors.File) {
		f.Metadata[ckpt.MetaOptimizer] = `{"method":"adam","lr":0.001,"beta1":0.9,"beta2":0.999,"eps":1e-8,"schedule":{"kind":"zigzag"}}`
	}},
	{name: "schedule-steps", want: `"ptrain.optimizer": schedule cosine: warm-up 0 and steps per epoch -3: must be ≥ 0`, meta: func(f *safetensors.File) {
		f.Metadata[ckpt.MetaOptimizer] = `{"method":"adam","lr":0.001,"beta1":0.9,"beta2":0.999,"eps":1e-8,"schedule":{"kind":"cosine","epochs":1,"steps_per_epoch":-3}}`
	}},
	{name: "health-not-json", want: `metadata "ptrain.health": unexpected end of JSON input`, meta: func(f *safetensors.File) { f.Metadata[metaHealth] = "{" }},
	{name: "health-steps-overflow", want: `"ptrain.health": health state: 9223372036854775807 steps seen`, meta: func(f *safetensors.File) {
		f.Metadata[metaHealth] = `{"raised":[],"recent_bits":[0,0,0,0,0,0,0,0,0,0],"steps":9223372036854775807}`
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
// eval, predict, export, train -resume and train -init: each must fail quickly
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
	files := []corruptFile{{"dev-zero", "/dev/zero", "not a regular file"}, {"directory", dir, "not a regular file"}}
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
		files = append(files, corruptFile{c.name, p, c.want})
	}
	refusedEverywhere(t, dir, files, "64-16:relu-10:softmax")
}

// corruptFile is a damaged checkpoint and what refusing it must say.
type corruptFile struct{ name, path, want string }

// loadPaths are the commands that read a checkpoint: info, eval, predict
// (of rows.csv in dir), export, train -resume and train -init (into a
// model of arch, on init.csv in dir: parsing the embedded digits for every
// file was most of the table's cost, and -init reads its file after the
// data), each given the checkpoint's path. Every other path is
// absolute, so that the commands run alike in this process and in dir.
func loadPaths(dir, arch string) map[string]func(string) []string {
	in := func(name string) string { return filepath.Join(dir, name) }
	return map[string]func(string) []string{
		"info": func(p string) []string { return []string{"info", p} },
		"eval": func(p string) []string { return []string{"eval", "-model", p} },
		"predict": func(p string) []string {
			return []string{"predict", "-model", p, "-input", in("rows.csv"), "-csv-header=false"}
		},
		"resume": func(p string) []string { return []string{"train", "-resume", p, "-quiet", "-out", in("r.safetensors")} },
		"export": func(p string) []string { return []string{"export", "-model", p, "-out", in("e.onnx")} },
		"init": func(p string) []string {
			return []string{"train", "-init", p, "-arch", arch, "-data", "csv:" + in("init.csv"), "-label", "class", "-batch", "8", "-epochs", "1", "-quiet", "-out", in("i.safetensors")}
		},
	}
}

// refusedEverywhere feeds every file to every load path (loadPaths): each
// must fail quickly with one message that names the file and what is
// wrong, and no panic. The table runs in this process, through run as
// main calls it; then one process per load path, each given another of
// the files, shows that the binary exits non-zero with that one line.
func refusedEverywhere(t *testing.T, dir string, files []corruptFile, arch string) {
	t.Helper()
	var table strings.Builder // 64 features and 10 classes, as the digits
	for i := range 64 {
		fmt.Fprintf(&table, "f%d,", i)
	}
	table.WriteString("class\n")
	for r := range 40 {
		for i := range 64 {
			fmt.Fprintf(&table, "%d,", (r*7+i)%17)
		}
		fmt.Fprintf(&table, "%d\n", r%10)
	}
	writeFiles(t, dir, map[string]string{"init.csv": table.String()})
	paths := loadPaths(dir, arch)
	hows := slices.Sorted(maps.Keys(paths))
	for _, f := range files {
		for _, how := range hows {
			errs, code, ok := runWithin(20*time.Second, paths[how](f.path))
			if !ok {
				t.Fatalf("%s via %s (in process): still running after 20 s", f.name, how)
			}
			checkRefusal(t, f, how+" (in process)", errs, code != 0)
		}
	}
	for i, how := range hows {
		f := files[i*len(files)/len(hows)]
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, binary, paths[how](f.path)...)
		cmd.Dir = dir
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		cancel()
		if ctx.Err() == context.DeadlineExceeded {
			t.Errorf("%s via %s: still running after 20 s", f.name, how)
			continue
		}
		checkRefusal(t, f, how, errb.String(), err != nil)
	}
}

// checkRefusal reports how's handling of f unless it failed with one line
// on stderr (errs) that names f's path and says f.want, and no panic.
func checkRefusal(t *testing.T, f corruptFile, how, errs string, failed bool) {
	t.Helper()
	switch {
	case !failed:
		t.Errorf("%s via %s: accepted", f.name, how)
	case strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine ") || strings.Contains(errs, "internal error"):
		t.Errorf("%s via %s: panic:\n%s", f.name, how, errs)
	case !strings.Contains(errs, f.path) || !strings.Contains(errs, f.want):
		t.Errorf("%s via %s: %q, want the file name and %q", f.name, how, strings.TrimSpace(errs), f.want)
	case strings.Count(strings.TrimSpace(errs), "\n") > 0:
		t.Errorf("%s via %s: more than one line:\n%s", f.name, how, errs)
	}
}

// runWithin runs args in this process as main does (warnings go to run's
// stderr), and returns what was written there and the exit status; ok is
// false if the command was still running after d (it is left running).
// Callers must not run in parallel with other commands run in-process.
func runWithin(d time.Duration, args []string) (stderr string, code int, ok bool) {
	var buf lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(args, strings.NewReader(""), io.Discard, &buf) }()
	select {
	case code = <-done:
		return buf.String(), code, true
	case <-time.After(d):
		return "", 0, false
	}
}

// TestCNNCheckpointOnEveryLoadPath: a CNN checkpoint (conv tensors, batch
// norm's running statistics, num_batches_tracked as I64) passes the checks
// of every load path, info, eval, predict, -resume and -init; damaged conv
// and batch norm tensors are refused by each of them.
func TestCNNCheckpointOnEveryLoadPath(t *testing.T) {
	const arch = "1x8x8-conv(8,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax"
	dir := t.TempDir()
	mustRun(t, dir, "train", "-arch", arch, "-epochs", "2", "-quiet", "-out", "x.safetensors")
	rows := strings.Repeat(strings.Repeat("3,", 63)+"9\n", 3)
	if err := os.WriteFile(filepath.Join(dir, "rows.csv"), []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "x.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	info := mustRun(t, dir, "info", "x.safetensors")
	for _, want := range []string{"conv.0.weight", "bn.0.running_var", "bn.0.num_batches_tracked  I64"} {
		if !strings.Contains(info, want) {
			t.Errorf("info lacks %q:\n%s", want, info)
		}
	}
	mustRun(t, dir, "info", "-json", "x.safetensors")
	mustRun(t, dir, "eval", "-model", "x.safetensors")
	if out := mustRun(t, dir, "predict", "-model", "x.safetensors", "-input", "rows.csv", "-csv-header=false"); strings.Count(out, "\n") != 4 {
		t.Errorf("predict of 3 rows:\n%s", out)
	}
	mustRun(t, dir, "predict", "-model", "x.safetensors", "-input", "rows.csv", "-csv-header=false", "-output", "p.csv")
	mustRun(t, dir, "train", "-init", "x.safetensors", "-arch", arch, "-epochs", "1", "-quiet", "-out", "y.safetensors")
	mustRun(t, dir, "train", "-resume", "x.safetensors", "-epochs", "3", "-quiet", "-out", "x.safetensors")
	if p := tensors(t, filepath.Join(dir, "x.safetensors")).Metadata[metaProgress]; !strings.Contains(p, `"epoch":3`) {
		t.Errorf("resumed to -epochs 3, progress %s", p)
	}

	edits := []struct {
		name, want string
		edit       func(f *safetensors.File)
	}{
		{"negative-running-var", `"bn.0.running_var": element 2 is -1, want a finite value ≥ 0`, func(f *safetensors.File) {
			le.LittleEndian.PutUint32(f.Tensor("bn.0.running_var").Data[8:], math.Float32bits(-1))
		}},
		{"nan-running-mean", `"bn.0.running_mean": element 0 is NaN`, func(f *safetensors.File) {
			le.LittleEndian.PutUint32(f.Tensor("bn.0.running_mean").Data, 0x7fc00000)
		}},
		{"inf-conv-weight", `"conv.0.weight": element 4 is +Inf`, func(f *safetensors.File) {
			le.LittleEndian.PutUint32(f.Tensor("conv.0.weight").Data[16:], 0x7f800000)
		}},
		{"tracked-I32", `"bn.0.num_batches_tracked": dtype I32, want I64`, func(f *safetensors.File) {
			t := f.Tensor("bn.0.num_batches_tracked")
			t.DType, t.Data = "I32", t.Data[:4]
		}},
		{"tracked-negative", `"bn.0.num_batches_tracked": element 0 is -5, want a count ≥ 0`, func(f *safetensors.File) {
			v := int64(-5)
			le.LittleEndian.PutUint64(f.Tensor("bn.0.num_batches_tracked").Data, uint64(v))
		}},
		{"no-running-mean", `"bn.0.running_mean"`, func(f *safetensors.File) {
			f.Tensors = slices.DeleteFunc(f.Tensors, func(t safetensors.Tensor) bool { return t.Name == "bn.0.running_mean" })
		}},
		{"conv-arch-lies", `"conv.0.weight": shape [8 1 3 3], the architecture 1x8x8-conv(8,5,pad=2)-bn:relu-maxpool(2)-flatten-10:softmax needs [8 1 5 5]`, func(f *safetensors.File) {
			f.Metadata["ptrain.arch"] = "1x8x8-conv(8,5,pad=2)-bn:relu-maxpool(2)-flatten-10:softmax"
		}},
		{"extra-bn", `"bn.1.weight": the architecture ` + arch + ` has 1 bn layers`, func(f *safetensors.File) {
			t := *f.Tensor("bn.0.weight")
			t.Name = "bn.1.weight"
			f.Tensors = append(f.Tensors, t)
		}},
	}
	var files []corruptFile
	for _, e := range edits {
		f := mustParse(bytes.Clone(good))
		e.edit(f)
		var out bytes.Buffer
		if err := safetensors.Write(&out, f.Tensors, f.Metadata); err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		p := filepath.Join(dir, e.name+".safetensors")
		if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, corruptFile{e.name, p, e.want})
	}
	refusedEverywhere(t, dir, files, arch)
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
// commands run with 4 GB of address space, so that a regression fails
// here instead of eating the machine. (2 GB was too little for the
// OpenBLAS build: its per-thread buffers take address space, and the
// 16 MiB CSV line cap needs a 32 MiB buffer on the way; real use stays
// near 70 MB.)
func TestDevZeroForEveryInput(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	for _, args := range [][]string{
		{"info", "/dev/zero"},
		{"export", "-model", "/dev/zero", "-out", "m.onnx"},
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
		cmd := exec.CommandContext(ctx, "sh", "-c", `ulimit -v 4000000 && exec "$@"`, "sh", binary)
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
