package main

import (
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/ptrain/ptrain/model"
)

// TestSummaryIndentsBlocks: ptrain info's summary puts a line per block,
// with its output shape and all its parameters, above its layers, which
// are indented (a nested block's deeper), the shortcut's marked '|'.
func TestSummaryIndentsBlocks(t *testing.T) {
	lay, err := model.MustParseSpec("1x8x8-conv(4,3,pad=1)-res(conv(4,3,pad=1)-res(bn:relu)|conv(4,1)):relu:dropout=0.1-gap-2").Layout()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	summary(tw, lay)
	tw.Flush()
	var got []string
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n")[1:] {
		f := strings.Fields(strings.TrimLeft(line, " |"))
		lead := line[2 : len(line)-len(strings.TrimLeft(line, " |"))] // the indentation, the shortcut's mark
		got = append(got, strings.ReplaceAll(lead, " ", ".")+strings.Join(f, " "))
	}
	want := []string{
		"conv.0 conv(4,3,pad=1) 4x8x8 40",
		"res res(...):relu:dropout=0.1 4x8x8 176",
		"..conv.1 conv(4,3,pad=1) 4x8x8 148",
		"..res res(...) 4x8x8 8",
		"....bn.0 bn:relu 4x8x8 8 + running_mean, running_var, num_batches_tracked",
		"|.conv.2 conv(4,1) 4x8x8 20",
		"gap gap 4 0",
		"dense.0 2 2 10",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("summary\n%s\nwant\n%s\n(from\n%s)", strings.Join(got, "\n"), strings.Join(want, "\n"), b.String())
	}
}
