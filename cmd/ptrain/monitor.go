package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/parallel"
	"github.com/ptrain/ptrain/parallel/health"
)

// epochDiag is what an epoch's report carries of the trainer's per-layer
// statistics and diagnosis (embedded in epochRow, so its fields are the
// epoch object's in JSON).
type epochDiag struct {
	GradNorm *float64     `json:"grad_norm,omitempty"` // global, epoch mean
	Layers   []layerRow   `json:"layers,omitempty"`
	Warnings []warningRow `json:"warnings"`
}

// layerRow is one layer's epoch means.
type layerRow struct {
	Layer         string   `json:"layer"`
	GradNorm      *float64 `json:"grad_norm"`
	WeightNorm    *float64 `json:"weight_norm"`
	UpdateRatio   *float64 `json:"update_ratio"`
	DeadFrac      *float64 `json:"dead_frac,omitempty"`      // ReLU layers
	SaturatedFrac *float64 `json:"saturated_frac,omitempty"` // sigmoid and tanh layers
}

type warningRow struct {
	Event   string `json:"event,omitempty"` // "warning" when printed on its own
	Code    string `json:"code"`
	Layer   string `json:"layer"`
	Message string `json:"message"`
}

// newEpochDiag is e's figures and the warnings raised during it.
func newEpochDiag(e parallel.EpochInfo, warnings []health.Warning) epochDiag {
	d := epochDiag{GradNorm: jsonNum(e.GradNorm.Mean), Warnings: []warningRow{}}
	for _, l := range e.Layers {
		r := layerRow{Layer: l.Layer, GradNorm: jsonNum(l.GradNorm.Mean), WeightNorm: jsonNum(l.WeightNorm.Mean), UpdateRatio: jsonNum(l.UpdateRatio.Mean)}
		switch l.Act {
		case model.ReLU:
			r.DeadFrac = jsonNum(l.DeadFrac.Mean)
		case model.Sigmoid, model.Tanh:
			r.SaturatedFrac = jsonNum(l.SaturatedFrac.Mean)
		}
		d.Layers = append(d.Layers, r)
	}
	for _, w := range warnings {
		d.Warnings = append(d.Warnings, warningRow{Code: w.Code, Layer: w.Layer, Message: w.Message})
	}
	return d
}

// csvHeader is the metrics file's columns for these figures: the global
// gradient norm, per layer its norms and ratio and its dead or saturated
// fraction, and the codes of the epoch's warnings.
func (d *epochDiag) csvHeader() []string {
	h := []string{"grad_norm"}
	for _, l := range d.Layers {
		h = append(h, l.Layer+".grad_norm", l.Layer+".weight_norm", l.Layer+".update_ratio")
		if l.DeadFrac != nil {
			h = append(h, l.Layer+".dead_frac")
		}
		if l.SaturatedFrac != nil {
			h = append(h, l.Layer+".saturated_frac")
		}
	}
	return append(h, "warnings")
}

func (d *epochDiag) csvRecord() []string {
	f := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'g', 6, 64)
	}
	r := []string{f(d.GradNorm)}
	for _, l := range d.Layers {
		r = append(r, f(l.GradNorm), f(l.WeightNorm), f(l.UpdateRatio))
		if l.DeadFrac != nil {
			r = append(r, f(l.DeadFrac))
		}
		if l.SaturatedFrac != nil {
			r = append(r, f(l.SaturatedFrac))
		}
	}
	var codes []string
	for _, w := range d.Warnings {
		codes = append(codes, w.Code)
	}
	return append(r, strings.Join(codes, ";"))
}

// warning is the health.Watch's callback: every warning goes to stderr as it is
// raised, unless -quiet (which every MPI rank but 0 is). Those no epoch
// report will carry (a non-finite stop ends the run first) wait in
// pending for unreported.
func (r *reporter) warning(w health.Warning) {
	r.pending = append(r.pending, w)
	if r.quiet {
		return
	}
	if r.bar != nil {
		_ = r.bar.Clear()
	}
	fmt.Fprintf(r.stderr, "ptrain: warning [%s] %s\n", w.Code, w.Message)
}

// unreported prints, with -json, the warnings that no epoch object
// carried, one object each.
func (r *reporter) unreported() {
	if !r.json {
		return
	}
	for _, w := range r.pending {
		b, _ := json.Marshal(warningRow{Event: "warning", Code: w.Code, Layer: w.Layer, Message: w.Message})
		fmt.Fprintln(r.out, string(b))
	}
	r.pending = nil
}

// layerTable prints the epoch's per-layer figures as a table (-monitor).
func (r *reporter) layerTable(e parallel.EpochInfo) {
	r.pending = r.pending[:0] // the epoch's report carries them
	if !r.monitor || r.quiet || len(e.Layers) == 0 {
		return
	}
	tw := tabwriter.NewWriter(r.human, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "layer\tgrad norm\tmin\tmax\tweight norm\tupdate/weight\tdead\tsaturated\t\n")
	g := func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return strconv.FormatFloat(v, 'e', 2, 64)
	}
	pct := func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*v)
	}
	for _, l := range e.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Layer, g(l.GradNorm.Mean), g(l.GradNorm.Min), g(l.GradNorm.Max),
			g(l.WeightNorm.Mean), g(l.UpdateRatio.Mean), pct(l.DeadFrac.Mean), pct(l.SaturatedFrac.Mean))
	}
	fmt.Fprintf(tw, "(all)\t%s\t%s\t%s\t\t\t\t\t\n", g(e.GradNorm.Mean), g(e.GradNorm.Min), g(e.GradNorm.Max))
	_ = tw.Flush()
}

// gradPlot is the panel of per-layer gradient norms (epoch means) over
// the epochs, on a log scale; nil when the run has none.
func gradPlot(rows []epochRow) (*plot.Plot, error) {
	if len(rows) == 0 || len(rows[len(rows)-1].Layers) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = "Gradient norm per layer (epoch mean)", "epoch", "L2 norm of the gradient"
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	p.Add(plotter.NewGrid())
	var args []any
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, l := range rows[len(rows)-1].Layers {
		var xy plotter.XYs
		for _, r := range rows {
			if i < len(r.Layers) && r.Layers[i].GradNorm != nil && *r.Layers[i].GradNorm > 0 {
				y := *r.Layers[i].GradNorm
				xy = append(xy, plotter.XY{X: float64(r.Epoch), Y: y})
				lo, hi = min(lo, y), max(hi, y)
			}
		}
		if len(xy) > 0 {
			args = append(args, l.Layer, xy)
		}
	}
	if len(args) == 0 {
		return nil, nil
	}
	p.Legend.Top, p.Legend.Left = false, false
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, err
	}
	if lo == hi {
		// One value in all (one epoch of one layer's norm): gonum widens
		// such a range by ±1, below zero, which a log scale cannot draw.
		p.Y.Min, p.Y.Max = lo/2, hi*2
	}
	return p, nil
}

// logTicks labels 1, 2 and 5 times each power of ten in range (powers
// of ten only over more than three decades, every digit within one):
// gonum's LogTicks labels powers of ten only, which leaves a range within
// one decade unlabelled.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	marks := []float64{1, 2, 5}
	switch {
	case hi > 1e3*lo: // many decades: powers of ten
		marks = marks[:1]
	case hi < 10*lo: // within a decade: every digit
		marks = []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	}
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range marks {
			v := m * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 6, 64)})
		}
	}
	return ticks
}
