package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ptrain/ptrain/model"
)

// summary writes a model summary, a line per layer (Keras's
// model.summary()): its name, what it is, its output shape per sample and
// its parameter count, as tab-separated columns for a tabwriter. A
// residual block is a line with the block's output and parameters, then
// its layers indented under it, the shortcut's marked with '|'.
func summary(w io.Writer, lay model.Layout) {
	fmt.Fprintf(w, "  layer\tspec\toutput\tparameters\n")
	for i := 0; i < len(lay.Layers); i++ {
		l := lay.Layers[i]
		if l.Spec.Kind == model.KindRes {
			continue // its line came before its layers
		}
		writeBlocks(w, lay, i)
		indent := strings.Repeat("  ", l.Depth)
		if l.Shortcut {
			indent = strings.Repeat("  ", l.Depth-1) + "| "
		}
		name := l.Name
		if name == "" {
			name = l.Spec.Kind.String()
		}
		n := 0
		for _, t := range l.Params {
			n += t.Size()
		}
		extra := ""
		if len(l.Buffers) > 0 {
			var parts []string
			for _, b := range l.Buffers {
				parts = append(parts, strings.TrimPrefix(b.Name, l.Name+"."))
			}
			extra = " + " + strings.Join(parts, ", ")
		}
		fmt.Fprintf(w, "  %s%s\t%s\t%v\t%d%s\n", indent, name, l.Spec, l.Out, n, extra)
	}
}

// writeBlocks writes the header lines of the blocks that start at layer
// i (none, usually), outermost first: "res", the block's output (after its activation)
// and the parameters of all its layers.
func writeBlocks(w io.Writer, lay model.Layout, i int) {
	var sums []int
	for j := len(lay.Layers) - 1; j >= i; j-- {
		if l := lay.Layers[j]; l.Spec.Kind == model.KindRes && l.First == i {
			sums = append(sums, j)
		}
	}
	for _, j := range sums { // outermost (largest index) first
		s := lay.Layers[j]
		n := 0
		for _, l := range lay.Layers[i:j] {
			lo, hi := l.ParamRange()
			n += hi - lo
		}
		act := ""
		if s.Spec.Act.Kind != model.Identity {
			act = ":" + s.Spec.Act.String()
		}
		if s.Spec.Dropout > 0 {
			act += fmt.Sprintf(":dropout=%g", s.Spec.Dropout)
		}
		indent := strings.Repeat("  ", s.Depth)
		if s.Shortcut {
			indent = strings.Repeat("  ", s.Depth-1) + "| "
		}
		fmt.Fprintf(w, "  %sres\tres(...)%s\t%v\t%d\n", indent, act, s.Out, n)
	}
}
