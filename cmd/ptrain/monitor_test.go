package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type epochObject struct {
	Epoch  int `json:"epoch"`
	Layers []struct {
		Layer         string   `json:"layer"`
		GradNorm      *float64 `json:"grad_norm"`
		WeightNorm    *float64 `json:"weight_norm"`
		UpdateRatio   *float64 `json:"update_ratio"`
		DeadFrac      *float64 `json:"dead_frac"`
		SaturatedFrac *float64 `json:"saturated_frac"`
	} `json:"layers"`
	Warnings []struct {
		Code, Layer, Message string
	} `json:"warnings"`
}

func epochObjects(t *testing.T, out string) []epochObject {
	t.Helper()
	var eps []epochObject
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, `{"event":"epoch"`) {
			continue
		}
		var e epochObject
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if e.Warnings == nil {
			t.Fatalf("epoch object without a warnings list: %s", line)
		}
		eps = append(eps, e)
	}
	return eps
}

// The README's first command (trainDefault's run, with -metrics and
// -plot): no epoch warns, and the CSV has the per-layer columns of both
// layers, a dead fraction for the ReLU layer only; with -json, every
// epoch object reports both layers' statistics, the dead fraction for the
// ReLU layer only (2 epochs of the same recipe).
func TestDefaultRunReportsLayersAndNoWarnings(t *testing.T) {
	dir, _ := trainDefault(t)
	f, err := os.Open(filepath.Join(dir, "m.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"grad_norm", "dense.0.grad_norm", "dense.0.weight_norm", "dense.0.update_ratio", "dense.0.dead_frac", "dense.1.update_ratio", "warnings"} {
		if !slices.Contains(recs[0], col) {
			t.Errorf("metrics header %v lacks %s", recs[0], col)
		}
	}
	for _, col := range recs[0] {
		if col == "dense.1.dead_frac" || strings.HasSuffix(col, "saturated_frac") {
			t.Errorf("metrics header %v has %s", recs[0], col)
		}
	}
	if len(recs) != 31 || len(recs[30]) != len(recs[0]) {
		t.Fatalf("metrics file: %d rows, last of %d fields for %d columns", len(recs), len(recs[len(recs)-1]), len(recs[0]))
	}
	warn, dead, grad := slices.Index(recs[0], "warnings"), slices.Index(recs[0], "dense.0.dead_frac"), slices.Index(recs[0], "dense.0.grad_norm")
	for i, r := range recs[1:] {
		if r[warn] != "" {
			t.Errorf("epoch %d: warnings %q for the default recipe", i+1, r[warn])
		}
		d, derr := strconv.ParseFloat(r[dead], 64)
		g, gerr := strconv.ParseFloat(r[grad], 64)
		if derr != nil || gerr != nil || !(d >= 0 && d < 0.5) || !(g > 0) {
			t.Errorf("epoch %d: dead fraction %q, gradient norm %q: want in [0, 0.5) and > 0", i+1, r[dead], r[grad])
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "p.png")); err != nil || st.Size() == 0 {
		t.Errorf("plot: %v", err)
	}

	eps := epochObjects(t, mustRun(t, t.TempDir(), "train", "-json", "-quiet", "-epochs", "2"))
	if len(eps) != 2 {
		t.Fatalf("%d epoch objects, want 2", len(eps))
	}
	for _, e := range eps {
		if len(e.Warnings) != 0 {
			t.Errorf("epoch %d: warnings %+v for the default recipe", e.Epoch, e.Warnings)
		}
		if len(e.Layers) != 2 || e.Layers[0].Layer != "dense.0" || e.Layers[1].Layer != "dense.1" {
			t.Fatalf("epoch %d: layers %+v, want dense.0 and dense.1", e.Epoch, e.Layers)
		}
		l0, l1 := e.Layers[0], e.Layers[1]
		if l0.GradNorm == nil || !(*l0.GradNorm > 0) || l0.WeightNorm == nil || l0.UpdateRatio == nil || l0.DeadFrac == nil ||
			!(*l0.DeadFrac >= 0 && *l0.DeadFrac < 0.5) || l0.SaturatedFrac != nil || l1.DeadFrac != nil || l1.SaturatedFrac != nil {
			t.Errorf("epoch %d: layers %+v: want norms, a dead fraction for the ReLU layer only", e.Epoch, e.Layers)
		}
	}
}

// A deep sigmoid stack: the warning in the epoch object and on stderr,
// and the -monitor table.
func TestDeepSigmoidRunWarns(t *testing.T) {
	arch := "64" + strings.Repeat("-32:sigmoid", 8) + "-10:softmax"
	out, errs, code := ptrain(t, t.TempDir(), "train", "-json", "-monitor", "-epochs", "2", "-arch", arch,
		"-weight-init", "xavier-uniform", "-optimizer", "sgd")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	eps := epochObjects(t, out)
	if len(eps) != 2 || len(eps[0].Warnings) != 1 || eps[0].Warnings[0].Code != "vanishing-gradient" || eps[0].Warnings[0].Layer != "dense.0" || len(eps[1].Warnings) != 0 {
		t.Fatalf("want vanishing-gradient on dense.0 in epoch 1 only: %+v", eps)
	}
	if len(eps[0].Layers) != 9 || eps[0].Layers[3].SaturatedFrac == nil {
		t.Errorf("want 9 layers with saturated fractions: %+v", eps[0].Layers)
	}
	if !strings.Contains(errs, "warning [vanishing-gradient]") || !strings.Contains(errs, "update/weight") || !strings.Contains(errs, "  dense.8 ") {
		t.Errorf("stderr lacks the warning or the -monitor table:\n%s", errs)
	}
}

// A diverging regression: exploding-gradient is reported, as its own JSON
// object, before the non-finite stop.
func TestDivergingRunReportsExplodingGradient(t *testing.T) {
	out, errs, code := ptrain(t, t.TempDir(), "train", "-json", "-data", "synthetic:regression", "-optimizer", "sgd", "-lr", "10", "-epochs", "5")
	if code == 0 || !strings.Contains(errs, "the loss is") {
		t.Fatalf("want a non-finite stop, got exit %d: %s", code, errs)
	}
	var w struct{ Event, Code, Layer, Message string }
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `"event":"warning"`) {
			if err := json.Unmarshal([]byte(line), &w); err != nil {
				t.Fatal(err)
			}
		}
	}
	if w.Code != "exploding-gradient" || !strings.HasPrefix(w.Layer, "dense.") || !strings.Contains(errs, "warning [exploding-gradient]") {
		t.Errorf("want an exploding-gradient warning naming a layer on stdout and stderr; stdout:\n%s\nstderr:\n%s", out, errs)
	}
}
