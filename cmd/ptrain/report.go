package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ptrain/ptrain/parallel"
)

// reporter prints a run's progress: a progress bar per epoch on a
// terminal, one plain line per epoch otherwise, JSON objects with -json;
// it also writes the metrics file and keeps the history for the plot.
type reporter struct {
	out, human io.Writer // JSON (stdout) and human text (stdout, or stderr with -json)
	json       bool
	quiet      bool
	terminal   bool
	epochs     int
	bar        *progressbar.ProgressBar
	start      time.Time
	metrics    *os.File
	metricsCSV *csv.Writer
	history    []epochRow
	stepLoss   float64            // this epoch's loss sum so far
	stepN      int                // and its samples
	epochStart time.Time          // when this epoch began: the last epoch's report, or the start
	monitor    bool               // -monitor: a table of the layers' figures every epoch
	pending    []parallel.Warning // raised since the last epoch report (monitor.go)
	header     bool               // the CSV metrics header is written (at the first epoch: its columns name the layers)
}

// epochRow is one epoch's figures, as written to -json, -metrics and the plot.
type epochRow struct {
	Epoch         int      `json:"epoch"`
	TrainLoss     *float64 `json:"train_loss"`
	TrainAccuracy *float64 `json:"train_accuracy"`
	ValLoss       *float64 `json:"val_loss"`
	ValAccuracy   *float64 `json:"val_accuracy"`
	LR            float64  `json:"lr"`
	SamplesPerSec float64  `json:"samples_per_sec"`
	EpochS        float64  `json:"epoch_s"`
	ElapsedS      float64  `json:"elapsed_s"`
	epochDiag              // per-layer figures and warnings (monitor.go)
}

// jsonNum turns NaN and ±Inf into JSON null.
func jsonNum(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func newReporter(c *Config, epochs int) (*reporter, error) {
	r := &reporter{out: os.Stdout, human: os.Stdout, json: c.JSON, quiet: c.Quiet, monitor: c.Monitor, epochs: epochs, start: time.Now(), epochStart: time.Now()}
	if c.JSON {
		r.human = os.Stderr
	}
	r.terminal = term.IsTerminal(int(os.Stderr.Fd())) && !c.JSON
	if c.Metrics != "" {
		f, err := os.Create(c.Metrics)
		if err != nil {
			return nil, fmt.Errorf("-metrics: %w", err)
		}
		r.metrics = f
		if !isJSONLines(c.Metrics) {
			r.metricsCSV = csv.NewWriter(f)
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
			progressbar.OptionSetWriter(os.Stderr),
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
	row := epochRow{Epoch: e.Epoch, TrainLoss: jsonNum(e.TrainLoss), TrainAccuracy: jsonNum(e.TrainAccuracy), LR: e.LR,
		SamplesPerSec: e.SamplesPerSec, EpochS: e.Elapsed.Seconds(), ElapsedS: time.Since(r.start).Seconds(), epochDiag: newEpochDiag(e)}
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
	if r.json {
		b, _ := json.Marshal(row)
		fmt.Fprintln(r.out, string(b))
	}
	acc := ""
	if !math.IsNaN(e.TrainAccuracy) {
		acc = fmt.Sprintf(" accuracy %.2f%%", 100*e.TrainAccuracy)
	}
	r.say("epoch %d/%d  train loss %.4f%s%s  %.0f samples/s  %.1fs", e.Epoch, r.epochs, e.TrainLoss, acc, valText, e.SamplesPerSec, e.Elapsed.Seconds())
	r.layerTable(e)
	if r.metrics != nil {
		if r.metricsCSV != nil {
			f := func(p *float64) string {
				if p == nil {
					return ""
				}
				return strconv.FormatFloat(*p, 'g', 8, 64)
			}
			if !r.header {
				r.header = true
				_ = r.metricsCSV.Write(append([]string{"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "samples_per_sec", "epoch_s", "elapsed_s"}, row.csvHeader()...))
			}
			_ = r.metricsCSV.Write(append([]string{strconv.Itoa(row.Epoch), f(row.TrainLoss), f(row.TrainAccuracy), f(row.ValLoss), f(row.ValAccuracy),
				strconv.FormatFloat(row.LR, 'g', 8, 64), strconv.FormatFloat(row.SamplesPerSec, 'f', 1, 64), strconv.FormatFloat(row.EpochS, 'f', 3, 64), strconv.FormatFloat(row.ElapsedS, 'f', 3, 64)}, row.csvRecord()...))
			r.metricsCSV.Flush()
			return r.metricsCSV.Error()
		}
		b, _ := json.Marshal(row)
		if _, err := fmt.Fprintln(r.metrics, string(b)); err != nil {
			return fmt.Errorf("-metrics: %w", err)
		}
	}
	return nil
}

func (r *reporter) close() error {
	if r.bar != nil {
		_ = r.bar.Finish()
	}
	if r.metrics != nil {
		return r.metrics.Close()
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
	accPlot, err := mk("Accuracy", "accuracy", "train", series(func(r epochRow) *float64 { return r.TrainAccuracy }), "validation", series(func(r epochRow) *float64 { return r.ValAccuracy }))
	if err != nil {
		return err
	}
	panels := []*plot.Plot{lossPlot, accPlot}
	if gp, err := gradPlot(rows); err != nil {
		return err
	} else if gp != nil {
		panels = append(panels, gp)
	}
	c, err := draw.NewFormattedCanvas(vg.Length(6*len(panels))*vg.Inch, 4.5*vg.Inch, format)
	if err != nil {
		return err
	}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Inch / 4, PadY: vg.Inch / 8, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	canvases := plot.Align([][]*plot.Plot{panels}, tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-plot: %w", err)
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("-plot: %w", err)
	}
	return f.Close()
}
