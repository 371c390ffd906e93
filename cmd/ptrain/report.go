package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ptrain/ptrain/parallel"
	"github.com/ptrain/ptrain/parallel/health"
)

// reporter prints a run's progress: a progress bar per epoch on a
// terminal, one plain line per epoch otherwise, JSON objects with -json;
// it also writes the metrics file and keeps the history for the plot.
type reporter struct {
	out, human io.Writer // JSON (stdout) and human text (stdout, or stderr with -json)
	stderr     io.Writer // warnings, the progress bar and the interruption's report
	json       bool
	quiet      bool
	terminal   bool
	epochs     int
	bar        *progressbar.ProgressBar
	start      time.Time
	metrics    string           // -metrics: rewritten whole after every epoch
	history    []epochRow       // every epoch of the run, resumed ones included
	stepLoss   float64          // this epoch's loss sum so far
	stepN      int              // and its samples
	epochStart time.Time        // when this epoch began: the last epoch's report, or the start
	penalty    func() float64   // the loss's L1 term at the current weights, with -l1
	monitor    bool             // -monitor: a table of the layers' figures every epoch
	pending    []health.Warning // raised since the last epoch report (monitor.go)
	lossUnits  string           // every row's loss_units (lossUnits)
}

// epochRow is one epoch's figures, as written to -json, -metrics and the plot.
type epochRow struct {
	Event         string   `json:"event"` // "epoch"
	Epoch         int      `json:"epoch"`
	TrainLoss     *float64 `json:"train_loss"`
	TrainAccuracy *float64 `json:"train_accuracy"`
	ValLoss       *float64 `json:"val_loss"`
	ValAccuracy   *float64 `json:"val_accuracy"`
	LR            float64  `json:"lr"`
	SamplesPerSec float64  `json:"samples_per_sec"`
	EpochS        float64  `json:"epoch_s"`
	ElapsedS      float64  `json:"elapsed_s"`
	L1Penalty     *float64 `json:"l1_penalty,omitempty"` // -l1's term λ·Σ|w| at the epoch's end; train_loss is the data loss
	LossUnits     string   `json:"loss_units,omitempty"` // what train_loss and val_loss are measured in (lossUnits); empty in rows of older runs
	epochDiag              // per-layer figures and warnings (monitor.go)
}

// The units of a run's losses, as the loss_units of its -json objects and
// -metrics rows: a regression run with -target-scale zscore learns
// standardised targets, so its losses are in the training split's
// standard deviations (squared, for mse); every other run's losses are
// computed on the targets as the data has them.
const (
	unitsStandardised = "standardised"
	unitsData         = "data"
)

// lossUnits is the run's loss_units.
func lossUnits(s *splits) string {
	if s.prep != nil && s.prep.TargetScale != nil {
		return unitsStandardised
	}
	return unitsData
}

// jsonNum turns NaN and ±Inf into JSON null.
func jsonNum(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// newReporter makes the run's reporter. A run resumed after epoch
// resumed (-1: a new run) continues the history up to that epoch, so that
// the -metrics file and the plot cover the whole run: past, the
// checkpoint's own, or else the -metrics file's rows, dropping those past
// the checkpoint. units is the run's loss_units; a resumed run fills it in
// for the earlier rows that lack it (written before the field), which were
// trained on the same targets.
func newReporter(c *Config, std stdio, epochs, resumed int, past []epochRow, units string) (*reporter, error) {
	r := &reporter{out: std.out, human: std.out, stderr: std.err, json: c.JSON, quiet: c.Quiet, epochs: epochs, start: time.Now(), epochStart: time.Now(), metrics: c.Metrics, monitor: c.Monitor, lossUnits: units}
	if c.JSON {
		r.human = std.err
	}
	r.terminal = isTerminal(std.err) && !c.JSON
	if resumed >= 0 {
		rows := past
		if rows == nil && c.Metrics != "" {
			var err error
			if rows, err = readMetrics(c.Metrics); err != nil {
				return nil, err
			}
		}
		for _, row := range rows {
			if row.Epoch <= resumed {
				if row.LossUnits == "" {
					row.LossUnits = units
				}
				r.history = append(r.history, row)
			}
		}
		if n := len(r.history); n > 0 { // elapsed_s goes on from there
			r.start = r.start.Add(-time.Duration(r.history[n-1].ElapsedS * float64(time.Second)))
		}
	}
	return r, nil
}

func isJSONLines(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".jsonl" || ext == ".json" || ext == ".ndjson"
}

// say prints a line of human text unless -quiet.
func (r *reporter) say(format string, args ...any) {
	if !r.quiet {
		fmt.Fprintf(r.human, format+"\n", args...)
	}
}

// step is the trainer's per-step hook: it drives the progress bar.
func (r *reporter) step(s parallel.StepInfo) error {
	r.stepLoss += s.Loss * float64(s.Samples)
	r.stepN += s.Samples
	if r.quiet || !r.terminal {
		return nil
	}
	if r.bar == nil {
		r.bar = progressbar.NewOptions(s.Batches,
			progressbar.OptionSetWriter(r.stderr),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond))
		_ = r.bar.Set(s.Batch - 1)
	}
	el := time.Since(r.epochStart).Seconds()
	r.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f %.0f samples/s", s.Epoch+1, r.epochs, r.stepLoss/float64(r.stepN), float64(r.stepN)/max(el, 1e-9)))
	return r.bar.Set(s.Batch)
}

// epoch is the trainer's per-epoch hook.
func (r *reporter) epoch(e parallel.EpochInfo) error {
	if r.bar != nil {
		_ = r.bar.Finish()
		r.bar = nil
	}
	r.stepLoss, r.stepN = 0, 0
	defer func() { r.epochStart = time.Now() }() // the next epoch starts after this report
	row := epochRow{Event: "epoch", Epoch: e.Epoch, TrainLoss: jsonNum(e.TrainLoss), TrainAccuracy: jsonNum(e.TrainAccuracy), LR: e.LR,
		SamplesPerSec: e.SamplesPerSec, EpochS: e.Elapsed.Seconds(), ElapsedS: time.Since(r.start).Seconds(), LossUnits: r.lossUnits, epochDiag: newEpochDiag(e, r.pending)}
	if r.penalty != nil {
		row.L1Penalty = jsonNum(r.penalty())
	}
	valText := ""
	if e.Val != nil {
		row.ValLoss, row.ValAccuracy = jsonNum(e.Val.Loss), jsonNum(e.Val.Accuracy)
		valText = fmt.Sprintf("  val loss %.4f", e.Val.Loss)
		if !math.IsNaN(e.Val.Accuracy) {
			valText += fmt.Sprintf(" accuracy %.2f%%", 100*e.Val.Accuracy)
		}
		if e.Improved {
			valText += " *"
		}
	}
	r.history = append(r.history, row)
	// The epoch's line is the run's first output to stdout: a stdout that
	// cannot be written (a full disk, > /dev/full, a closed pipe) stops
	// the run here, at epoch 1, not after the last epoch.
	if r.json {
		b, _ := json.Marshal(row)
		if _, err := fmt.Fprintln(r.out, string(b)); err != nil {
			return fmt.Errorf("-json: writing the epoch %d event to stdout: %w", e.Epoch, err)
		}
	}
	acc := ""
	if !math.IsNaN(e.TrainAccuracy) {
		acc = fmt.Sprintf(" accuracy %.2f%%", 100*e.TrainAccuracy)
	}
	if !r.quiet {
		if _, err := fmt.Fprintf(r.human, "epoch %d/%d  train loss %.4f%s%s  %.0f samples/s  %.1fs\n", e.Epoch, r.epochs, e.TrainLoss, acc, valText, e.SamplesPerSec, e.Elapsed.Seconds()); err != nil && !r.json {
			return fmt.Errorf("writing the epoch %d report to stdout: %w", e.Epoch, err)
		}
	}
	r.layerTable(e)
	return nil
}

// flushMetrics writes -metrics with every epoch so far. The run calls it
// after the epoch's checkpoint is written, so that the file never holds a
// row for an epoch whose checkpoint does not exist (a full disk at the
// first checkpoint used to leave the epoch-1 row and no checkpoint).
func (r *reporter) flushMetrics() error {
	if r.metrics == "" {
		return nil
	}
	if err := writeMetrics(r.metrics, r.history); err != nil {
		return fmt.Errorf("-metrics: %w", err)
	}
	return nil
}

func (r *reporter) close() error {
	if r.bar != nil {
		_ = r.bar.Finish()
	}
	return nil
}

// plotHistory draws the loss curves and the accuracy curves side by side
// into path (.png or .svg).
func plotHistory(path string, rows []epochRow) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "png" && format != "svg" {
		return fmt.Errorf("-plot %s: want a .png or .svg file", path)
	}
	series := func(get func(epochRow) *float64) plotter.XYs {
		var xy plotter.XYs
		for _, r := range rows {
			if v := get(r); v != nil {
				xy = append(xy, plotter.XY{X: float64(r.Epoch), Y: *v})
			}
		}
		return xy
	}
	mk := func(title, y string, lines ...any) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, "epoch", y
		p.X.Tick.Marker, p.Y.Tick.Marker = distinctTicks{}, distinctTicks{}
		p.Add(plotter.NewGrid())
		var args []any
		for i := 0; i+1 < len(lines); i += 2 {
			if xy := lines[i+1].(plotter.XYs); len(xy) > 0 {
				args = append(args, lines[i], xy)
			}
		}
		if len(args) == 0 {
			return p, nil
		}
		return p, plotutil.AddLinePoints(p, args...)
	}
	lossPlot, err := mk("Loss", "loss", "train", series(func(r epochRow) *float64 { return r.TrainLoss }), "validation", series(func(r epochRow) *float64 { return r.ValLoss }))
	if err != nil {
		return err
	}
	lossPlot.Legend.Top = true // loss falls: the top right is empty
	trainAcc, valAcc := series(func(r epochRow) *float64 { return r.TrainAccuracy }), series(func(r epochRow) *float64 { return r.ValAccuracy })
	plots := []*plot.Plot{lossPlot}
	if len(trainAcc)+len(valAcc) > 0 { // regression has no accuracy: no empty panel
		accPlot, err := mk("Accuracy", "accuracy", "train", trainAcc, "validation", valAcc)
		if err != nil {
			return err
		}
		plots = append(plots, accPlot)
	}
	var side *plot.Legend
	width := vg.Length(len(plots)) * 6 * vg.Inch
	if gp, err := gradPlot(rows); err != nil {
		return err
	} else if gp != nil {
		plots = append(plots, gp)
		// One entry per layer: beside the panels, not over the curves.
		legend := gp.Legend
		gp.Legend = plot.NewLegend()
		side = &legend
		width += 6*vg.Inch + legendWidth
	}
	c, err := draw.NewFormattedCanvas(width, 4.5*vg.Inch, format)
	if err != nil {
		return err
	}
	drawPanels(draw.New(c), plots, side)
	return writeFileAtomic(path, func(w io.Writer) error { _, err := c.WriteTo(w); return err })
}
