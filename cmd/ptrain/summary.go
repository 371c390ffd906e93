package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ptrain/ptrain/model"
)

// summary writes a model summary, a line per layer (Keras's
// model.summary()): its name, what it is, its output shape per sample and
// its parameter count, as tab-separated columns for a tabwriter.
func summary(w io.Writer, lay model.Layout) {
	fmt.Fprintf(w, "  layer\tspec\toutput\tparameters\n")
	for _, l := range lay.Layers {
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
		fmt.Fprintf(w, "  %s\t%s\t%v\t%d%s\n", name, l.Spec, l.Out, n, extra)
	}
}
