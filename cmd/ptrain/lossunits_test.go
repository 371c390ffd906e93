package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// train_loss says in which units it is where scripts read it (#21): the
// -json epoch and final objects and the -metrics rows carry loss_units,
// "standardised" for a regression on standardised targets (the default)
// and "data" for raw targets and for classification.
func TestLossUnitsInJSONAndMetrics(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"houses.csv": housesCSV(200), "t.csv": tableCSV(200, "a", "b", "colour", "label")})
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"scaled", []string{"-data", "csv:houses.csv", "-label", "price", "-task", "regression"}, "standardised"},
		{"raw", []string{"-data", "csv:houses.csv", "-label", "price", "-task", "regression", "-target-scale", "none"}, "data"},
		{"classes", []string{"-data", "csv:t.csv", "-label", "label"}, "data"},
	} {
		args := append([]string{"train", "-epochs", "2", "-json", "-metrics", c.name + ".csv", "-out", c.name + ".safetensors"}, c.args...)
		out := mustRun(t, dir, args...)
		events := 0
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var e map[string]any
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("%s: %q: %v", c.name, l, err)
			}
			if e["event"] == "epoch" || e["event"] == "final" {
				events++
				if e["loss_units"] != c.want {
					t.Errorf("%s: %s object has loss_units %v, want %q", c.name, e["event"], e["loss_units"], c.want)
				}
			}
		}
		if events != 3 {
			t.Errorf("%s: %d epoch and final objects, want 3", c.name, events)
		}
		f, err := os.Open(filepath.Join(dir, c.name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(recs) != 3 {
			t.Fatalf("%s: metrics %q, %v", c.name, recs, err)
		}
		col := -1
		for j, h := range recs[0] {
			if h == "loss_units" {
				col = j
			}
		}
		if col < 0 || recs[1][col] != c.want || recs[2][col] != c.want {
			t.Errorf("%s: metrics %q, want loss_units %q", c.name, recs, c.want)
		}
	}
}

// A -metrics file written before loss_units (no such column) is read back
// by a resumed run, and its rows take the run's units; a word other than
// the two units is refused naming the line.
func TestReadMetricsLossUnits(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.csv")
	writeFiles(t, dir, map[string]string{
		"old.csv": "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,samples_per_sec,epoch_s,elapsed_s,grad_norm,warnings\n1,0.5,,0.6,,0.001,100.0,0.100,0.100,1.5,\n",
		"new.csv": "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,samples_per_sec,epoch_s,elapsed_s,loss_units\n1,0.5,,0.6,,0.001,100.0,0.100,0.100,standardised\n",
		"bad.csv": "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,samples_per_sec,epoch_s,elapsed_s,loss_units\n1,0.5,,0.6,,0.001,100.0,0.100,0.100,furlongs\n",
	})
	rows, err := readMetrics(old)
	if err != nil || len(rows) != 1 || rows[0].LossUnits != "" || *rows[0].TrainLoss != 0.5 {
		t.Fatalf("old file: %+v, %v", rows, err)
	}
	r, err := newReporter(&Config{Metrics: old}, stdio{nil, io.Discard, io.Discard}, 3, 1, nil, unitsStandardised)
	if err != nil || len(r.history) != 1 || r.history[0].LossUnits != unitsStandardised {
		t.Fatalf("resumed history %+v, %v", r.history, err)
	}
	if rows, err = readMetrics(filepath.Join(dir, "new.csv")); err != nil || len(rows) != 1 || rows[0].LossUnits != unitsStandardised {
		t.Errorf("new file: %+v, %v", rows, err)
	}
	if _, err = readMetrics(filepath.Join(dir, "bad.csv")); err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), `"furlongs"`) {
		t.Errorf("bad units: %v", err)
	}
}
