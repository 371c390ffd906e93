package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
)

// metricsColumns is the header of a CSV -metrics file: epochRow's fields
// but l1_penalty, which only the JSON lines carry. The first
// numericColumns are numbers; loss_units, a word, came later, so a file
// written before it (without the column) is still read back.
var metricsColumns = []string{"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "samples_per_sec", "epoch_s", "elapsed_s", "loss_units"}

const numericColumns = 9

// writeMetrics writes every row to path, CSV or JSON lines by its
// extension, atomically: a crash or a full disk leaves the last epoch's
// file whole.
func writeMetrics(path string, rows []epochRow) error {
	return writeFileAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if isJSONLines(path) {
			for _, row := range rows {
				b, _ := json.Marshal(row)
				bw.Write(b)
				bw.WriteByte('\n')
			}
			return bw.Flush()
		}
		cw := csv.NewWriter(bw)
		// The per-layer columns are those of the last epoch; an earlier row
		// with other layers' figures (one read back from an old file) leaves
		// them empty.
		var diag []string
		if len(rows) > 0 {
			diag = rows[len(rows)-1].csvHeader()
		}
		_ = cw.Write(append(slices.Clone(metricsColumns), diag...))
		opt := func(p *float64) string {
			if p == nil {
				return ""
			}
			return strconv.FormatFloat(*p, 'g', 8, 64)
		}
		for _, row := range rows {
			rec := []string{strconv.Itoa(row.Epoch), opt(row.TrainLoss), opt(row.TrainAccuracy), opt(row.ValLoss), opt(row.ValAccuracy),
				strconv.FormatFloat(row.LR, 'g', 8, 64), strconv.FormatFloat(row.SamplesPerSec, 'f', 1, 64), strconv.FormatFloat(row.EpochS, 'f', 3, 64), strconv.FormatFloat(row.ElapsedS, 'f', 3, 64), row.LossUnits}
			d := row.csvRecord()
			if h := row.csvHeader(); !slices.Equal(h, diag) { // global norm, blanks, warnings
				d = append(append([]string{d[0]}, make([]string, len(diag)-2)...), d[len(d)-1])
			}
			_ = cw.Write(append(rec, d...))
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// readMetrics reads a -metrics file that writeMetrics wrote, for a resumed
// run to continue; a missing file is an empty history. A file it cannot
// read is an error rather than something to overwrite.
func readMetrics(path string) ([]epochRow, error) {
	b, err := readSmallFile(path, 1<<30)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("-metrics: %w", err)
	}
	bad := func(line int, err error) error {
		return fmt.Errorf("-metrics %s: line %d: %v; a resumed run continues this file, so it must be one ptrain wrote (move it away to start a new one)", path, line, err)
	}
	var rows []epochRow
	if isJSONLines(path) {
		for i, l := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			var row epochRow
			if err := json.Unmarshal(l, &row); err != nil {
				return nil, bad(i+1, err)
			}
			rows = append(rows, row)
		}
		return rows, nil
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, bad(0, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	if len(recs[0]) < numericColumns || !slices.Equal(recs[0][:numericColumns], metricsColumns[:numericColumns]) {
		return nil, bad(1, fmt.Errorf("header %q, want %q and the layers' columns", recs[0], metricsColumns))
	}
	units := len(recs[0]) > numericColumns && recs[0][numericColumns] == "loss_units"
	for i, rec := range recs[1:] {
		var v [numericColumns]float64
		var set [numericColumns]bool
		// The layers' columns are not read back: the checkpoint's own
		// history, which a resumed run prefers, keeps them.
		for j, f := range rec[:min(len(rec), numericColumns)] {
			if f == "" {
				continue
			}
			if v[j], err = strconv.ParseFloat(f, 64); err != nil {
				return nil, bad(i+2, fmt.Errorf("column %s: %v", metricsColumns[j], err))
			}
			set[j] = true
		}
		opt := func(j int) *float64 {
			if !set[j] {
				return nil
			}
			x := v[j]
			return &x
		}
		row := epochRow{Event: "epoch", Epoch: int(v[0]), TrainLoss: opt(1), TrainAccuracy: opt(2), ValLoss: opt(3), ValAccuracy: opt(4),
			LR: v[5], SamplesPerSec: v[6], EpochS: v[7], ElapsedS: v[8]}
		if units && len(rec) > numericColumns {
			if u := rec[numericColumns]; u != "" && u != unitsStandardised && u != unitsData {
				return nil, bad(i+2, fmt.Errorf("column loss_units: %q, want %s or %s", u, unitsStandardised, unitsData))
			}
			row.LossUnits = rec[numericColumns]
		}
		rows = append(rows, row)
	}
	return rows, nil
}
