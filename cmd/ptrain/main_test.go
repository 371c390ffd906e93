package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ptrain/ptrain/model/safetensors"
)

// binary is the ptrain command the tests drive as a user would: this test
// binary itself, which behaves as ptrain when started with cliEnv set (as
// every child of this process is, by TestMain), so a run builds and links
// no second binary. Only when PTRAIN_E2E_TAGS asks for tags this binary was
// not built with (mpi, under .ci/run) is ptrain built with them instead.
var binary string

// cliEnv, set, makes this test binary run ptrain's main instead of tests.
const cliEnv = "PTRAIN_TEST_AS_CLI"

// cleanups run after all tests: they remove what tests share.
var cleanups []func()

func runTests(m *testing.M) int {
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	return code
}

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) != "" {
		main()
		return // main exits; this is not reached
	}
	cleanups = append(cleanups, ramTempDir())
	tags := cmp.Or(os.Getenv("PTRAIN_E2E_TAGS"), buildTags)
	if tags == buildTags {
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, "ptrain e2e tests: this test binary's path:", err)
			os.Exit(1)
		}
		binary = self
		os.Setenv(cliEnv, "1")
		os.Exit(runTests(m))
	}
	dir, err := os.MkdirTemp("", "ptrain-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ptrain")
	args := []string{"build", "-o", binary, "-tags", tags, "."}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := runTests(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

func tensors(t *testing.T, path string) *safetensors.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// defaultRun is the README's first command, ptrain train with no flags
// but -metrics m.csv and -plot p.png (which change nothing in the run),
// run once for the tests that read it: its stdout, and its folder
// (ptrain.safetensors, m.csv, p.png), which they must not change.
var defaultRun struct {
	once     sync.Once
	dir, out string
	ok       bool
}

func trainDefault(t *testing.T) (dir, stdout string) {
	t.Helper()
	defaultRun.once.Do(func() {
		dir, err := os.MkdirTemp("", "ptrain-default")
		if err != nil {
			t.Fatal(err)
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		defaultRun.dir, defaultRun.out = dir, mustRun(t, dir, "train", "-metrics", "m.csv", "-plot", "p.png")
		defaultRun.ok = true
	})
	if !defaultRun.ok {
		t.Fatal("the default run failed: see the first test that ran it")
	}
	return defaultRun.dir, defaultRun.out
}

func TestDefaultTrainReachesHighTestAccuracy(t *testing.T) {
	_, out := trainDefault(t)
	if !strings.Contains(out, "test accuracy 9") || !strings.Contains(out, "checkpoint written to ptrain.safetensors") {
		t.Fatalf("default run output:\n%s", out)
	}
	rest := out[strings.Index(out, "test accuracy ")+len("test accuracy "):]
	acc, err := strconv.ParseFloat(rest[:strings.Index(rest, "%")], 64)
	if err != nil || acc < 96.5 {
		t.Fatalf("test accuracy %v%% (want ≥ 96.5%%): %v", acc, err)
	}
}

func TestJSONOutputEvalPredictInfo(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, dir, "train", "-json", "-epochs", "5", "-out", "m.safetensors", "-metrics", "m.csv", "-plot", "curves.png")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("want 5 epoch objects and a final one on stdout, got %d lines:\n%s", len(lines), out)
	}
	for i, l := range lines[:5] {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		for _, k := range []string{"epoch", "train_loss", "val_loss", "val_accuracy", "samples_per_sec", "elapsed_s"} {
			if _, ok := e[k]; !ok {
				t.Fatalf("epoch object lacks %q: %s", k, l)
			}
		}
		if int(e["epoch"].(float64)) != i+1 {
			t.Fatalf("epoch %v on line %d", e["epoch"], i+1)
		}
	}
	var final map[string]any
	_ = json.Unmarshal([]byte(lines[5]), &final)
	if acc, ok := final["test_accuracy"].(float64); !ok || acc < 0.8 || final["test_loss"] == nil {
		t.Fatalf("final object: %s", lines[5])
	}
	metrics, _ := os.ReadFile(filepath.Join(dir, "m.csv"))
	if n := strings.Count(string(metrics), "\n"); n != 6 || !strings.HasPrefix(string(metrics), "epoch,train_loss") {
		t.Fatalf("metrics file has %d lines:\n%s", n, metrics)
	}
	if png, err := os.ReadFile(filepath.Join(dir, "curves.png")); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("plot: %v", err)
	}

	ev := mustRun(t, dir, "eval", "-model", "m.safetensors", "-json")
	var em map[string]any
	if err := json.Unmarshal([]byte(ev), &em); err != nil {
		t.Fatalf("eval -json: %v\n%s", err, ev)
	}
	if em["accuracy"].(float64) != final["test_accuracy"].(float64) || int(em["samples"].(float64)) != 359 {
		t.Fatalf("eval on the run's test split: %v, training reported %v", em["accuracy"], final["test_accuracy"])
	}
	text := mustRun(t, dir, "eval", "-model", "m.safetensors")
	for _, want := range []string{"accuracy", "precision", "recall", "confusion matrix"} {
		if !strings.Contains(text, want) {
			t.Fatalf("eval text lacks %q:\n%s", want, text)
		}
	}

	// predict: CSV rows of 64 pixel counts, as the digits file holds them.
	rows := "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0\n"
	_ = os.WriteFile(filepath.Join(dir, "rows.csv"), []byte(rows), 0o644)
	pred := mustRun(t, dir, "predict", "-model", "m.safetensors", "-input", "rows.csv", "-csv-header=false")
	recs := strings.Split(strings.TrimSpace(pred), "\n")
	if len(recs) != 2 || !strings.HasPrefix(recs[0], "row,class,p_0,p_1") || !strings.HasPrefix(recs[1], "0,0,") {
		t.Fatalf("predict output (the first digits sample is a 0):\n%s", pred)
	}
	info := mustRun(t, dir, "info", "m.safetensors")
	for _, want := range []string{"64-128:relu-10:softmax", "9610 (F32)", "progress"} {
		if !strings.Contains(info, want) {
			t.Fatalf("info lacks %q:\n%s", want, info)
		}
	}
}

func TestCheckpointFindsRelativeDataFromElsewhere(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	var rows strings.Builder
	rows.WriteString("x,y,class\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&rows, "%d,%d,%s\n", i%7, i%5, []string{"a", "b"}[i%2])
	}
	_ = os.WriteFile(filepath.Join(dir, "t.csv"), []byte(rows.String()), 0o644)
	mustRun(t, dir, "train", "-data", "csv:t.csv", "-test", "0.25", "-epochs", "2", "-quiet", "-out", "m.safetensors")
	out := mustRun(t, other, "eval", "-model", filepath.Join(dir, "m.safetensors"))
	if !strings.Contains(out, "15 samples") {
		t.Fatalf("eval from another directory:\n%s", out)
	}
}

func TestResumeEqualsUninterrupted(t *testing.T) {
	dir := t.TempDir()
	common := []string{"-workers", "2", "-dropout", "0.2", "-optimizer", "momentum", "-schedule", "step:1:0.7", "-quiet"}
	mustRun(t, dir, append([]string{"train", "-epochs", "4", "-out", "whole.safetensors"}, common...)...)
	mustRun(t, dir, append([]string{"train", "-epochs", "2", "-out", "half.safetensors"}, common...)...)
	mustRun(t, dir, "train", "-resume", "half.safetensors", "-epochs", "4", "-out", "resumed.safetensors", "-quiet")
	a, b := tensors(t, filepath.Join(dir, "whole.safetensors")), tensors(t, filepath.Join(dir, "resumed.safetensors"))
	for _, name := range []string{"dense.0.weight", "dense.0.bias", "dense.1.weight", "optim.momentum_buffer"} {
		if !bytes.Equal(a.Tensor(name).Data, b.Tensor(name).Data) {
			t.Fatalf("%s differs between the resumed and the uninterrupted run", name)
		}
	}
	// A flag that would change the run is refused on resume.
	_, errs, code := ptrain(t, dir, "train", "-resume", "half.safetensors", "-lr", "0.5")
	if code != 2 || !strings.Contains(errs, "-lr cannot change when resuming") {
		t.Fatalf("resume with -lr: exit %d, %s", code, errs)
	}
}

func TestSIGINTWritesLoadableCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "train", "-epochs", "100000", "-out", "int.safetensors", "-batch", "16")
	cmd.Dir = dir
	stdout, _ := cmd.StdoutPipe()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "epoch 5/") {
			break
		}
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	go func() {
		for sc.Scan() {
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("ptrain did not stop within 30 s of SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d after SIGINT, want 130; stderr:\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "resume with: "+binary+" train -resume int.safetensors") { // the name it was invoked by
		t.Fatalf("no resume hint:\n%s", errb.String())
	}
	// The run goes on training while the signal is on its way (an epoch of
	// the digits takes about a millisecond on a Zen 5), so the checkpoint
	// holds 5 or more epochs: resume for two more than it has done. (With
	// a fixed -epochs 4 the test failed whenever the signal came late.)
	info := mustRun(t, dir, "info", "int.safetensors")
	m := regexp.MustCompile(`progress\s+(\d+) epochs done`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no progress line in ptrain info:\n%s", info)
	}
	trained, _ := strconv.Atoi(m[1])
	out := mustRun(t, dir, "train", "-resume", "int.safetensors", "-epochs", strconv.Itoa(trained+2), "-quiet", "-json")
	if !strings.Contains(out, `"test_accuracy"`) {
		t.Fatalf("resumed run after %d epochs:\n%s", trained, out)
	}
}

func TestBadInputExitsNonZeroWithOneMessage(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		_ = os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	write("bad.csv", "a,b,label\n1,2,x\n3,oops,y\n")
	write("short.csv", "a,b,label\n1,2,x\n3,y\n")
	write("ok.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,x\n")
	write("garbage.safetensors", "not a checkpoint at all")
	write("bad.json", `{"epochs": 3, "learning_rate": 0.1}`)
	write("broken.json", "{\"epochs\": 3,\n \"lr\": }")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"train", "-epochs", "x"}, `invalid value "x" for flag -epochs`},
		{[]string{"train", "-nosuchflag"}, "flag provided but not defined: -nosuchflag"},
		{[]string{"train", "-arch", "64-10:swish"}, "unknown activation"},
		{[]string{"train", "-arch", "32-10:softmax"}, "takes 32 inputs, digits has 64 features"},
		{[]string{"train", "-arch", "64-3:softmax"}, "10 classes, the model has 3 outputs"},
		{[]string{"train", "-loss", "bce"}, "needs a sigmoid output"},
		{[]string{"train", "-optimizer", "adagrad"}, `unknown optimizer "adagrad"`},
		{[]string{"train", "-lr", "-1"}, "learning rate -1"},
		{[]string{"train", "-optimizer", "adam", "-beta1", "1"}, "beta1 1"},
		{[]string{"train", "-batch", "0"}, "-batch 0"},
		{[]string{"train", "-val", "1.5"}, "-val 1.5"},
		{[]string{"train", "-dtype", "float16"}, "-dtype"},
		{[]string{"train", "-schedule", "linear"}, "schedule"},
		{[]string{"train", "-data", "nosuch"}, `-data "nosuch"`},
		{[]string{"train", "-data", "csv:missing.csv"}, "missing.csv"},
		{[]string{"train", "-data", "csv:bad.csv"}, `bad.csv: line 3, column "b": field "oops" is not a number`},
		{[]string{"train", "-data", "csv:short.csv"}, "short.csv: line 3: 2 fields, want 3"},
		{[]string{"train", "-data", "csv:bad.csv", "-label", "nolabel"}, `no label column "nolabel"`},
		{[]string{"train", "-data", "csv:ok.csv", "-test", "0", "-val-on-test"}, "-val-on-test: csv:ok.csv has no test split"},
		{[]string{"train", "-data", "mnist:" + dir}, "no train-images-idx3-ubyte"},
		{[]string{"train", "-data", "fashion-mnist:" + dir}, "a directory that holds them (Debian"}, // apt-get install …, or where it is installed
		{[]string{"train", "-init", "garbage.safetensors"}, "garbage.safetensors"},
		{[]string{"train", "-resume", "garbage.safetensors"}, "garbage.safetensors"},
		{[]string{"train", "-resume", "nosuch.safetensors"}, "nosuch.safetensors"},
		{[]string{"train", "-config", "bad.json"}, `unknown field "learning_rate"`},
		{[]string{"train", "-config", "broken.json"}, "line 2"},
		{[]string{"train", "-out", filepath.Join(dir, "no", "such", "dir", "m.safetensors"), "-epochs", "1"}, "no such file or directory"},
		{[]string{"train", "-plot", "curves.gif", "-epochs", "1"}, "want a .png or .svg"},
		{[]string{"eval"}, "-model CKPT is required"},
		{[]string{"eval", "-model", "garbage.safetensors"}, "garbage.safetensors"},
		{[]string{"predict", "-model", "garbage.safetensors"}, "-input FILE are required"},
		{[]string{"info"}, "want one checkpoint path"},
		{[]string{"info", "garbage.safetensors"}, "garbage.safetensors"},
		{[]string{"info", "-nosuchflag", "garbage.safetensors"}, "flag provided but not defined: -nosuchflag (see ptrain info -h)"},
		{[]string{"info", "a.safetensors", "b.safetensors"}, `unexpected argument "b.safetensors"`},
	} {
		_, errs, code := ptrain(t, dir, tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("ptrain %s: exit %d, stderr %q; want non-zero and %q", strings.Join(tc.args, " "), code, errs, tc.want)
		}
		if strings.Contains(errs, "panic:") || strings.Contains(errs, "goroutine ") {
			t.Errorf("ptrain %s: Go panic text on stderr:\n%s", strings.Join(tc.args, " "), errs)
		}
	}
}

// Every command started as a process, as a user starts the binary (the
// other tests run most commands in-process): -h of each prints its
// examples and exits 0, version names the BLAS, and the process exits
// with run's status, 2 for a usage error and 1 for a failure.
func TestCommandsAsProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []string{"train", "eval", "predict", "info", "export"} {
		out, _, code := spawn(t, dir, nil, "", c, "-h")
		if code != 0 || !strings.Contains(out, "Example") {
			t.Errorf("ptrain %s -h: exit %d, no examples:\n%s", c, code, out)
		}
	}
	if out, _, code := spawn(t, dir, nil, "", "version"); code != 0 || !strings.Contains(out, "BLAS:") {
		t.Errorf("version: exit %d: %s", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "-epochs", "x"}, 2, `invalid value "x" for flag -epochs`},
		{[]string{"info", "nosuch.safetensors"}, 1, "nosuch.safetensors"},
	} {
		if _, errs, code := spawn(t, dir, nil, "", tc.args...); code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("ptrain %s: exit %d, %q; want %d and %q", strings.Join(tc.args, " "), code, errs, tc.code, tc.want)
		}
	}
}

// predict on a CSV with a header: a column named like the training label
// (string classes here) is skipped when present, and not required.
func TestPredictCSVWithHeaderSkipsTheLabelColumn(t *testing.T) {
	dir := t.TempDir()
	var train strings.Builder
	train.WriteString("a,b,species\n")
	for i := range 60 {
		c, v := "x", 1.0
		if i%2 == 1 {
			c, v = "y", -1.0
		}
		fmt.Fprintf(&train, "%g,%g,%s\n", v+0.01*float64(i%7), 0.1*float64(i%5), c)
	}
	files := map[string]string{
		"train.csv":       train.String(),
		"with_label.csv":  "a,b,species\n1.0,0.2,x\n-1.0,0.1,y\n",
		"no_label.csv":    "a,b\n1.0,0.2\n-1.0,0.1\n",
		"label_first.csv": "species,a,b\nx,1.0,0.2\ny,-1.0,0.1\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, dir, "train", "-data", "csv:train.csv", "-label", "species", "-epochs", "20", "-quiet", "-out", "m.safetensors")
	for _, in := range []string{"with_label.csv", "no_label.csv", "label_first.csv"} {
		recs := strings.Split(strings.TrimSpace(mustRun(t, dir, "predict", "-model", "m.safetensors", "-input", in)), "\n")
		if len(recs) != 3 || !strings.HasPrefix(recs[0], "row,class,p_x,p_y") || !strings.HasPrefix(recs[1], "0,x,") || !strings.HasPrefix(recs[2], "1,y,") {
			t.Errorf("predict -input %s:\n%s", in, strings.Join(recs, "\n"))
		}
	}
}
