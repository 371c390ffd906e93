package main

// End-to-end tests for issue 12 ("No surprises"): every flag means what a
// PyTorch or Keras user reads into it, or the help says the difference.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model/safetensors"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// twoClassCSV is a small separable table with a header and string classes.
func twoClassCSV(n int) string {
	var b strings.Builder
	b.WriteString("a,b,class\n")
	for i := range n {
		c, v := "x", 1.0
		if i%2 == 1 {
			c, v = "y", -1.0
		}
		fmt.Fprintf(&b, "%g,%g,%s\n", v+0.01*float64(i%7), 0.1*float64(i%5), c)
	}
	return b.String()
}

// -optimizer sgd -momentum 0.9 is torch.optim.SGD(momentum=0.9): the same
// run as the momentum preset (it used to be plain SGD), and -nesterov the
// same as the nesterov preset.
func TestSGDWithMomentumIsPyTorchsSGD(t *testing.T) {
	dir := t.TempDir()
	common := []string{"train", "-epochs", "2", "-workers", "2", "-quiet"}
	run := func(out string, args ...string) *safetensors.File {
		mustRun(t, dir, append(append(append([]string{}, common...), "-out", out), args...)...)
		return tensors(t, filepath.Join(dir, out))
	}
	sgdMom := run("a.safetensors", "-optimizer", "sgd", "-momentum", "0.9")
	preset := run("b.safetensors", "-optimizer", "momentum")
	plain := run("c.safetensors", "-optimizer", "sgd")
	sgdNest := run("d.safetensors", "-optimizer", "sgd", "-momentum", "0.9", "-nesterov")
	nest := run("e.safetensors", "-optimizer", "nesterov")
	for _, name := range []string{"dense.0.weight", "dense.1.bias", "optim.momentum_buffer"} {
		if !bytes.Equal(sgdMom.Tensor(name).Data, preset.Tensor(name).Data) {
			t.Errorf("%s: sgd -momentum 0.9 differs from the momentum preset", name)
		}
		if !bytes.Equal(sgdNest.Tensor(name).Data, nest.Tensor(name).Data) {
			t.Errorf("%s: sgd -momentum 0.9 -nesterov differs from the nesterov preset", name)
		}
	}
	if bytes.Equal(sgdMom.Tensor("dense.0.weight").Data, plain.Tensor("dense.0.weight").Data) {
		t.Error("sgd -momentum 0.9 trained exactly as plain sgd: the momentum was ignored")
	}
	if plain.Tensor("optim.momentum_buffer") != nil {
		t.Error("plain sgd (momentum 0, PyTorch's default) keeps a momentum buffer")
	}
}

// A hyperparameter the optimizer does not use is a usage error, from a flag
// or a config file.
func TestUnusedOptimizerHyperparameterIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"sgd.json": `{"optimizer": "sgd", "beta1": 0.9}`})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-optimizer", "sgd", "-beta1", "0.9"}, "-beta1 does not apply to -optimizer sgd"},
		{[]string{"-optimizer", "adam", "-momentum", "0.9"}, "-momentum does not apply to -optimizer adam"},
		{[]string{"-optimizer", "adamw", "-nesterov"}, "-nesterov does not apply to -optimizer adamw"},
		{[]string{"-optimizer", "adam", "-alpha", "0.9"}, "-alpha does not apply"},
		{[]string{"-optimizer", "sgd", "-eps", "1e-6"}, "-eps does not apply"},
		{[]string{"-optimizer", "rmsprop", "-beta2", "0.99"}, "-beta2 does not apply"},
		{[]string{"-optimizer", "sgd", "-nesterov"}, "nesterov needs momentum > 0"},
		{[]string{"-config", "sgd.json"}, "-beta1 does not apply to -optimizer sgd"},
	} {
		_, errs, code := ptrain(t, dir, append([]string{"train", "-epochs", "1"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("train %s: exit %d, %q; want exit 2 and %q", strings.Join(tc.args, " "), code, errs, tc.want)
		}
	}
}

// -l1 is a loss term over the weights: train_loss stays the data loss and
// the penalty is its own field, λ·Σ|w| over the dense.*.weight tensors.
func TestL1PenaltyIsReportedOverWeightsOnly(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, dir, "train", "-epochs", "2", "-l1", "0.001", "-json", "-quiet", "-out", "m.safetensors")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &last); err != nil {
		t.Fatal(err)
	}
	got, ok := last["l1_penalty"].(float64)
	if !ok {
		t.Fatalf("epoch object without l1_penalty: %s", lines[1])
	}
	f := tensors(t, filepath.Join(dir, "m.safetensors"))
	var sum float64
	for _, name := range []string{"dense.0.weight", "dense.1.weight"} {
		w := f.Tensor(name)
		for i := 0; i+4 <= len(w.Data); i += 4 {
			sum += math.Abs(float64(math.Float32frombits(uint32(w.Data[i]) | uint32(w.Data[i+1])<<8 | uint32(w.Data[i+2])<<16 | uint32(w.Data[i+3])<<24)))
		}
	}
	if want := 0.001 * sum; math.Abs(got-want) > 1e-6*want {
		t.Fatalf("l1_penalty %v, want 0.001·Σ|w| over the weights = %v", got, want)
	}
	help, _, _ := ptrain(t, dir, "train", "-h")
	for _, want := range []string{"not the biases", "biases included", "every optimizer step"} {
		if !strings.Contains(help, want) {
			t.Errorf("train -h does not say %q", want)
		}
	}
}

// cosine:MIN with MIN above the rate would make the rate climb.
func TestCosineFloorAboveLRIsRefused(t *testing.T) {
	_, errs, code := ptrain(t, t.TempDir(), "train", "-lr", "0.01", "-schedule", "cosine:0.1", "-epochs", "1")
	if code != 2 || !strings.Contains(errs, "cosine:0.1") || !strings.Contains(errs, "above the learning rate 0.01") {
		t.Fatalf("exit %d, %q", code, errs)
	}
	mustRun(t, t.TempDir(), "train", "-lr", "0.01", "-schedule", "cosine:0.001", "-epochs", "1", "-quiet")
}

// The same command with -resume added is accepted; a real change is refused
// naming both values; -epochs at or below the checkpoint's does nothing; a
// run saved with -quiet resumes with progress.
func TestResumeTheSameCommand(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"t.csv": twoClassCSV(60), "run.json": `{"lr": 0.05, "batch": 16}`})
	base := []string{"train", "-data", "csv:t.csv", "-label", "class", "-optimizer", "momentum", "-config", "run.json", "-seed", "3", "-test", "0.2", "-quiet", "-out", "m.safetensors"}
	mustRun(t, dir, append(base, "-epochs", "2")...)
	before, _ := os.ReadFile(filepath.Join(dir, "m.safetensors"))

	out, errs, code := ptrain(t, dir, append(base, "-epochs", "2", "-resume", "m.safetensors")...)
	after, _ := os.ReadFile(filepath.Join(dir, "m.safetensors"))
	if code != 0 || !strings.Contains(errs, "nothing to do") || out != "" || !bytes.Equal(before, after) {
		t.Fatalf("resume with -epochs 2 of a 2-epoch run: exit %d, stdout %q, stderr %q, checkpoint rewritten: %v", code, out, errs, !bytes.Equal(before, after))
	}
	mustRun(t, dir, append(base, "-epochs", "3", "-resume", "m.safetensors")...)

	_, errs, code = ptrain(t, dir, append(base, "-epochs", "4", "-resume", "m.safetensors", "-seed", "4", "-lr", "0.05")...)
	if code != 2 || !strings.Contains(errs, "-seed cannot change when resuming") || !strings.Contains(errs, "-seed is 3 in the checkpoint, 4 here") || strings.Contains(errs, "-lr") {
		t.Fatalf("resume with another -seed: exit %d, %q", code, errs)
	}

	// Saved with -quiet; resumed without it: progress is shown.
	out = mustRun(t, dir, "train", "-resume", "m.safetensors", "-epochs", "4")
	if !strings.Contains(out, "epoch 4/4") {
		t.Fatalf("a run saved with -quiet resumed without progress:\n%s", out)
	}
}

// CSV data holds out a seeded 20% test split by default, as the digits do,
// and says so on the first line; eval of a run without a test split says
// it is scoring training data.
func TestCSVHoldsOutATestSplitByDefault(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"t.csv": twoClassCSV(60)})
	out := mustRun(t, dir, "train", "-data", "csv:t.csv", "-epochs", "1", "-out", "m.safetensors")
	first := strings.SplitN(out, "\n", 2)[0]
	if !strings.Contains(first, "/ 12 test samples") {
		t.Fatalf("first line without a 20%% test split of 60 rows: %s", first)
	}
	ev, errs, code := ptrain(t, dir, "eval", "-model", "m.safetensors")
	if code != 0 || !strings.Contains(ev, ": 12 samples") || strings.Contains(errs, "trained on") {
		t.Fatalf("eval: exit %d\n%s%s", code, ev, errs)
	}
	// The run's own file named with -data: still its held-out split.
	if ev := mustRun(t, dir, "eval", "-model", "m.safetensors", "-data", "csv:./t.csv"); !strings.Contains(ev, ": 12 samples") {
		t.Fatalf("eval -data with the run's own file scored more than its test split:\n%s", ev)
	}
	mustRun(t, dir, "train", "-data", "csv:t.csv", "-epochs", "1", "-test", "0", "-quiet", "-out", "all.safetensors")
	ev, errs, code = ptrain(t, dir, "eval", "-model", "all.safetensors", "-json")
	if code != 0 || !strings.Contains(errs, "not a test score") || !strings.Contains(ev, `"split":"training"`) {
		t.Fatalf("eval of a run without a test split: exit %d\n%s%s", code, ev, errs)
	}
	help, _, _ := ptrain(t, dir, "train", "-h")
	if strings.Contains(help, "(default -1)") {
		t.Error("train -h prints -test's default as -1")
	}
}

// predict reads the training file itself (its metadata line, no header,
// the label column last) with train's flags, and stdin with -input -.
func TestPredictReadsTheTrainingCSVAndStdin(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("60,2,a,b,c\n") // a scikit-learn-style metadata line
	for i := range 60 {
		fmt.Fprintf(&b, "%g,%g,%d\n", float64(i%2)*2-1, 0.1*float64(i%5), i%2)
	}
	writeFiles(t, dir, map[string]string{"t.csv": b.String()})
	mustRun(t, dir, "train", "-data", "csv:t.csv", "-csv-skip", "1", "-csv-header=false", "-epochs", "30", "-batch", "8", "-quiet", "-out", "m.safetensors")
	pred := mustRun(t, dir, "predict", "-model", "m.safetensors", "-input", "t.csv", "-csv-skip", "1", "-csv-header=false")
	recs := strings.Split(strings.TrimSpace(pred), "\n")
	if len(recs) != 61 || !strings.HasPrefix(recs[1], "0,0,") || !strings.HasPrefix(recs[2], "1,1,") {
		t.Fatalf("predict on the training file: %d lines\n%s", len(recs), strings.Join(recs[:min(4, len(recs))], "\n"))
	}
	out, errs, code := run2(t, dir, nil, "-1,0.2\n1,0.1\n", "predict", "-model", "m.safetensors", "-input", "-", "-csv-header=false")
	recs = strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(recs) != 3 || !strings.HasPrefix(recs[1], "0,0,") || !strings.HasPrefix(recs[2], "1,1,") {
		t.Fatalf("predict -input -: exit %d\n%s%s", code, out, errs)
	}
	_, errs, code = ptrain(t, dir, "predict", "-model", "m.safetensors", "-input", "t.csv", "-csv-header=false")
	if code == 0 || !strings.Contains(errs, "-csv-skip") {
		t.Fatalf("predict without -csv-skip on a metadata line: exit %d, %q", code, errs)
	}
	// eval takes the same flags over the checkpoint's: other data without
	// the metadata line, with a header.
	writeFiles(t, dir, map[string]string{"other.csv": "a,b,y\n-1,0.2,0\n1,0.1,1\n1,0.3,1\n"})
	ev := mustRun(t, dir, "eval", "-model", "m.safetensors", "-data", "csv:other.csv", "-csv-skip", "0", "-csv-header")
	if !strings.Contains(ev, "other.csv: 3 samples") {
		t.Fatalf("eval with its own CSV flags:\n%s", ev)
	}
}

// Regression eval reports MSE, RMSE, MAE and R², and the plot has no empty
// accuracy panel.
func TestRegressionEvalAndPlot(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-data", "synthetic:regression:400", "-epochs", "5", "-quiet", "-out", "r.safetensors", "-plot", "r.png")
	out := mustRun(t, dir, "eval", "-model", "r.safetensors")
	for _, want := range []string{"MSE", "RMSE", "MAE", "R²"} {
		if !strings.Contains(out, want) {
			t.Errorf("regression eval lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "accuracy") {
		t.Errorf("regression eval shows an accuracy:\n%s", out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, dir, "eval", "-model", "r.safetensors", "-json")), &m); err != nil {
		t.Fatal(err)
	}
	mse, ok1 := m["mse"].(float64)
	rmse, ok2 := m["rmse"].(float64)
	if !ok1 || !ok2 || math.Abs(rmse-math.Sqrt(mse)) > 1e-9 || m["mae"] == nil || m["r2"] == nil || m["event"] != "eval" {
		t.Fatalf("eval -json: %v", m)
	}
	mustRun(t, dir, "train", "-epochs", "2", "-quiet", "-out", "c.safetensors", "-plot", "c.png")
	width := func(name string) int {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cfg, err := png.DecodeConfig(f)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Width
	}
	// Both have the loss and the gradient panels and the gradient legend's
	// column; classification adds one 6-inch panel (576 px at 96 dpi).
	if r, c := width("r.png"), width("c.png"); c-r != 6*96 {
		t.Fatalf("regression plot %d px wide, classification %d: want no accuracy panel", r, c)
	}
}

// Usage errors exit 2; options that would be ignored are refused or warned
// about; the help tells the real defaults.
func TestUsageErrorsExit2AndNothingIsSilentlyIgnored(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"bad.json": `{"epochs": 3, "learning_rate": 0.1}`})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-optimizer", "adagrad"}, `unknown optimizer "adagrad"`},
		{[]string{"-arch", "64-10:swish"}, "unknown activation"},
		{[]string{"-arch", "32-10:softmax"}, "takes 32 inputs"},
		{[]string{"-loss", "hinge"}, "unknown loss"},
		{[]string{"-loss", "bce"}, "needs a sigmoid output"},
		{[]string{"-normalize", "l2"}, `-normalize "l2"`},
		{[]string{"-data", "nosuch"}, `-data "nosuch"`},
		{[]string{"-data", "synthetic:moons"}, "synthetic:xor"},
		{[]string{"-config", "bad.json"}, `unknown field "learning_rate"`},
		{[]string{"-config", "missing.json"}, "missing.json"},
		{[]string{"-weight-init", "orthogonal"}, "unknown initialisation"},
		{[]string{"-patience", "3", "-val", "0"}, "-patience 3"},
		{[]string{"-task", "regression"}, "-task regression: digits is a classification dataset"},
		{[]string{"-metrics", "x.txt"}, "-metrics x.txt"},
		{[]string{"-plot", "curves.gif"}, "want a .png or .svg"},
	} {
		_, errs, code := ptrain(t, dir, append([]string{"train", "-epochs", "1"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("train %s: exit %d, %q; want exit 2 and %q", strings.Join(tc.args, " "), code, errs, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ptrain.safetensors")); err == nil {
		t.Error("a refused run wrote a checkpoint")
	}
	many := strconv.Itoa(runtime.NumCPU() + 1)
	_, errs, code := ptrain(t, dir, "train", "-epochs", "1", "-quiet", "-workers", many)
	if code != 0 || !strings.Contains(errs, "warning: -workers "+many+" is more than") {
		t.Errorf("-workers 4096: exit %d, %q", code, errs)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-label", "3", "-csv-skip", "1"}, "warning: -label, -csv-skip ignored: CSV options apply to csv: data, not digits"},
		{[]string{"-val-on-test", "-val", "0.2"}, "warning: -val ignored"},
	} {
		_, errs, code := ptrain(t, dir, append([]string{"train", "-epochs", "1", "-quiet"}, tc.args...)...)
		if code != 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("train %s: exit %d, %q; want a warning %q", strings.Join(tc.args, " "), code, errs, tc.want)
		}
	}
	help, _, _ := ptrain(t, dir, "train", "-h")
	if !strings.Contains(help, "INPUTS-256:relu-128:relu-CLASSES:softmax") {
		t.Error("train -h does not describe the default -arch for wide inputs")
	}
}

// -init from a state_dict of named modules (not a Sequential's positions,
// which initmap_test.go maps) lists the names it expected and found;
// info lists any safetensors file's tensors.
func TestInitFromOtherNamesAndInfoOnAnySafetensors(t *testing.T) {
	dir := t.TempDir()
	zeros := func(n int) []byte { return make([]byte, 4*n) }
	ts := []safetensors.Tensor{
		{Name: "fc1.weight", DType: "F32", Shape: []int{16, 64}, Data: zeros(16 * 64)},
		{Name: "fc1.bias", DType: "F32", Shape: []int{16}, Data: zeros(16)},
		{Name: "fc2.weight", DType: "F32", Shape: []int{10, 16}, Data: zeros(10 * 16)},
		{Name: "fc2.bias", DType: "F32", Shape: []int{10}, Data: zeros(10)},
	}
	var b bytes.Buffer
	if err := safetensors.Write(&b, ts, nil); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"torch.safetensors": b.String()})
	_, errs, code := ptrain(t, dir, "train", "-arch", "64-16:relu-10:softmax", "-init", "torch.safetensors", "-epochs", "1")
	for _, want := range []string{"dense.0.weight [16 64]", "dense.1.bias [10]", "fc1.weight [16 64]", "fc2.bias [10]", "positional names"} {
		if code == 0 || !strings.Contains(errs, want) {
			t.Errorf("-init with PyTorch names: exit %d, stderr lacks %q:\n%s", code, want, errs)
		}
	}
	out, errs, code := ptrain(t, dir, "info", "torch.safetensors")
	if code != 0 || !strings.Contains(out, "fc1.weight") || !strings.Contains(out, "F32 [16 64]") || !strings.Contains(out, "fc2.bias") {
		t.Fatalf("info on a non-ptrain safetensors file: exit %d\n%s%s", code, out, errs)
	}
	var info map[string]any
	js := mustRun(t, dir, "info", "-json", "torch.safetensors")
	if err := json.Unmarshal([]byte(js), &info); err != nil || info["ptrain_model"] != false || fmt.Sprint(info["tensors"]) != "[map[dtype:F32 name:fc1.weight shape:[16 64]] map[dtype:F32 name:fc1.bias shape:[16]] map[dtype:F32 name:fc2.weight shape:[10 16]] map[dtype:F32 name:fc2.bias shape:[10]]]" {
		t.Fatalf("info -json: %v\n%s", err, js)
	}
}

// -json: every object carries an event; info -json nests config and
// progress as objects.
func TestJSONObjectsHaveAnEvent(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, dir, "train", "-epochs", "2", "-json", "-out", "m.safetensors")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil || (e["event"] != "epoch" && e["event"] != "final") {
			t.Fatalf("train -json line without an event: %s", l)
		}
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, dir, "eval", "-model", "m.safetensors", "-json")), &ev); err != nil || ev["event"] != "eval" {
		t.Fatalf("eval -json: %v %v", err, ev)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, dir, "info", "-json", "m.safetensors")), &info); err != nil {
		t.Fatal(err)
	}
	cfg, ok1 := info["config"].(map[string]any)
	prog, ok2 := info["progress"].(map[string]any)
	if info["event"] != "info" || !ok1 || !ok2 || cfg["data"] != "digits" || prog["epoch"] != float64(2) {
		t.Fatalf("info -json: config and progress must be objects: %v", info)
	}
}

// -data mnist without a directory takes it from PTRAIN_DATA, else the user
// cache directory, and says where to get MNIST (-download) otherwise.
func TestMNISTDirectoryFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	_, errs, code := run2(t, dir, []string{"PTRAIN_DATA=", "XDG_CACHE_HOME=" + dir}, "", "train", "-data", "mnist")
	if code != 2 || !strings.Contains(errs, "PTRAIN_DATA") || !strings.Contains(errs, "https://") || !strings.Contains(errs, filepath.Join(dir, "ptrain", "mnist")) || !strings.Contains(errs, "-download") {
		t.Fatalf("-data mnist without PTRAIN_DATA: exit %d, %q", code, errs)
	}
	_, errs, code = run2(t, dir, []string{"PTRAIN_DATA=" + dir}, "", "train", "-data", "mnist")
	if code == 0 || !strings.Contains(errs, filepath.Join(dir, "mnist")) || !strings.Contains(errs, "https://") {
		t.Fatalf("-data mnist with PTRAIN_DATA: exit %d, %q", code, errs)
	}
	// Its files there are found (a tiny MNIST: data's tests read the real one).
	root := filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(root, "mnist"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range tinyMNIST(t) {
		writeFiles(t, filepath.Join(root, "mnist"), map[string]string{name: string(b)})
	}
	_, errs, code = run2(t, dir, []string{"PTRAIN_DATA=" + root}, "", "train", "-data", "mnist", "-epochs", "0", "-quiet")
	if code != 0 {
		t.Fatalf("-data mnist from PTRAIN_DATA=%s: exit %d, %q", root, code, errs)
	}
}
