package main

import (
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// distinctTicks is gonum's default tick marker with labels precise enough
// to tell apart: its labels keep few digits, so a loss axis from 3.5e11
// to 5e11 read "4e+11" three times.
type distinctTicks struct{}

func (distinctTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for prec := 2; prec <= 12 && repeated(ticks); prec++ {
		for i := range ticks {
			if ticks[i].Label != "" {
				ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', prec, 64)
			}
		}
	}
	return ticks
}

// repeated reports whether two labelled ticks have the same label.
func repeated(ticks []plot.Tick) bool {
	seen := map[string]bool{}
	for _, t := range ticks {
		if t.Label == "" {
			continue
		}
		if seen[t.Label] {
			return true
		}
		seen[t.Label] = true
	}
	return false
}

// legendWidth is the column to the right of the panels that holds a legend
// too long to sit inside its panel (the gradient panel's, one entry per
// layer) without covering the curves.
const legendWidth = 1.5 * vg.Inch

// drawPanels draws the panels side by side on c, each in a tile of its
// own so that their titles are level (plot.Align levels the data areas
// instead, which lifted a log-scale panel's title above the others'), and
// side, if its entries are not empty, in a column at the right.
func drawPanels(c draw.Canvas, panels []*plot.Plot, side *plot.Legend) {
	area := c
	if side != nil {
		area = draw.Crop(c, 0, -legendWidth, 0, 0)
		legend := draw.Crop(c, c.Max.X-c.Min.X-legendWidth, 0, vg.Inch/8, -vg.Inch/2)
		side.Top, side.Left = true, true
		side.Draw(legend)
	}
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Inch / 4, PadY: vg.Inch / 8, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	for i, p := range panels {
		p.Draw(tiles.At(area, i, 0))
	}
}
