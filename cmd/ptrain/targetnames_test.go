package main

import (
	"fmt"
	"strings"
	"testing"
)

// A regression model's outputs are named after the -label columns in
// eval (R² per output) and in predict's header, not y0, y1.
func TestRegressionOutputsNamedAfterTheLabels(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("area,rooms,price,tax\n")
	for i := range 60 {
		a, r := 50+i*3, 1+i%5
		fmt.Fprintf(&b, "%d,%d,%g,%g\n", a, r, float64(a)*2+float64(r), float64(a)/10)
	}
	writeFiles(t, dir, map[string]string{"h.csv": b.String(), "rows.csv": "area,rooms\n60,2\n"})
	mustRun(t, dir, "train", "-data", "csv:h.csv", "-label", "price,tax", "-task", "regression", "-normalize", "zscore", "-epochs", "2", "-quiet")
	out := mustRun(t, dir, "eval", "-model", "ptrain.safetensors")
	if !strings.Contains(out, "R² of price") || !strings.Contains(out, "R² of tax") {
		t.Errorf("eval:\n%s", out)
	}
	if out := mustRun(t, dir, "eval", "-model", "ptrain.safetensors", "-json"); !strings.Contains(out, `"outputs":["price","tax"]`) {
		t.Errorf("eval -json:\n%s", out)
	}
	if out := mustRun(t, dir, "predict", "-model", "ptrain.safetensors", "-input", "rows.csv"); !strings.HasPrefix(out, "row,price,tax\n") {
		t.Errorf("predict:\n%s", out)
	}
}
