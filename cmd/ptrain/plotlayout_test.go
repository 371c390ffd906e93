package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// Tick labels are never repeated: a regression loss axis over 3.5e11 to
// 4.6e11 used to read "4e+11" three times.
func TestTickLabelsAreDistinct(t *testing.T) {
	for _, r := range [][2]float64{{3.5e11, 4.6e11}, {2.35, 2.45}, {0, 1}, {0.9801, 0.9832}, {-1e-7, 3e-7}, {1e10, 1.0000001e10}} {
		seen := map[string]float64{}
		for _, tk := range (distinctTicks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			if v, dup := seen[tk.Label]; dup {
				t.Errorf("range %v: label %q for %g and %g", r, tk.Label, v, tk.Value)
			}
			seen[tk.Label] = tk.Value
		}
	}
}

// The panels' titles are level, and the gradient panel's legend (one
// entry per layer) lies beside the panels, not over the curves.
func TestPlotTitlesLevelAndLegendBeside(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "3", "-quiet", "-plot", "p.svg")
	b, err := os.ReadFile(filepath.Join(dir, "p.svg"))
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string][2]float64{}
	for _, m := range regexp.MustCompile(`<text x="([-0-9.]+)" y="([-0-9.]+)"[^>]*\n?[^>]*>([^<]+)</text>`).FindAllSubmatch(b, -1) {
		x, _ := strconv.ParseFloat(string(m[1]), 64)
		y, _ := strconv.ParseFloat(string(m[2]), 64)
		texts[string(m[3])] = [2]float64{x, y}
	}
	loss, okL := texts["Loss"]
	acc, okA := texts["Accuracy"]
	grad, okG := texts["Gradient norm per layer (epoch mean)"]
	if !okL || !okA || !okG || loss[1] != acc[1] || loss[1] != grad[1] {
		t.Errorf("titles at %v, %v, %v (found %v %v %v); want one height", loss, acc, grad, okL, okA, okG)
	}
	right := 0.0 // the panels' right edge: their white backgrounds
	for _, m := range regexp.MustCompile(`<path d="M[-0-9.]+,[-0-9.]+L([-0-9.]+),[-0-9.]+L[^"]*" style="fill:#FFFFFF"`).FindAllSubmatch(b, -1) {
		x, _ := strconv.ParseFloat(string(m[1]), 64)
		right = max(right, x)
	}
	if l, ok := texts["dense.1"]; !ok || l[0] < right {
		t.Errorf("the gradient legend's dense.1 at x %v, the panels end at %v: want it beside them", l, right)
	}
}
