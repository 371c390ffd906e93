package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/parallel"
)

// print writes the figures as text or one JSON object; outputs names the
// model's outputs (the label columns), in R²'s order.
func (rm regressionMetrics) print(w io.Writer, ds *data.Dataset, split string, outputs []string, asJSON bool) error {
	if asJSON {
		r2 := make([]*float64, len(rm.OutputR2))
		for i, v := range rm.OutputR2 {
			r2[i] = jsonNum(v)
		}
		return printJSON(w, map[string]any{"event": "eval", "dataset": ds.Name, "split": split, "task": "regression", "samples": rm.N,
			"mse": jsonNum(rm.MSE), "rmse": jsonNum(rm.RMSE), "mae": jsonNum(rm.MAE), "r2": jsonNum(rm.R2), "output_r2": r2, "outputs": outputs})
	}
	fmt.Fprintf(w, "%s: %d samples of %s\nMSE   %.6g\nRMSE  %.6g\nMAE   %.6g\nR²    %.4f\n", ds.Name, rm.N, strings.Join(outputs, ", "), rm.MSE, rm.RMSE, rm.MAE, rm.R2)
	if len(rm.OutputR2) > 1 {
		for j, v := range rm.OutputR2 {
			fmt.Fprintf(w, "  R² of %s  %.4f\n", outputs[j], v)
		}
	}
	return nil
}

// printMetrics writes a classification evaluation as text or one JSON object.
func printMetrics(w io.Writer, ds *data.Dataset, split string, m parallel.Metrics, asJSON bool) error {
	type class struct {
		Name      string   `json:"class"`
		Support   int64    `json:"support"`
		Precision *float64 `json:"precision"`
		Recall    *float64 `json:"recall"`
		F1        *float64 `json:"f1"`
	}
	var classes []class
	for i := range m.Support {
		tp, support, predicted := m.Hits[i], m.Support[i], m.Predicted[i]
		p, r := float64(tp)/float64(predicted), float64(tp)/float64(support)
		classes = append(classes, class{Name: ds.Classes[i], Support: support, Precision: jsonNum(p), Recall: jsonNum(r), F1: jsonNum(2 * p * r / (p + r))})
	}
	if asJSON {
		return printJSON(w, map[string]any{"event": "eval", "dataset": ds.Name, "split": split, "task": "classification", "samples": m.N,
			"loss": jsonNum(m.Loss), "accuracy": jsonNum(m.Accuracy), "confusion": m.Confusion, "classes": classes})
	}
	fmt.Fprintf(w, "%s: %d samples\nloss      %.4f\n", ds.Name, m.N, m.Loss)
	if math.IsNaN(m.Accuracy) {
		return nil
	}
	fmt.Fprintf(w, "accuracy  %.2f%%\n\n", 100*m.Accuracy)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tprecision\trecall\tf1\tsupport\t")
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.3f", *p)
	}
	for _, c := range classes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t\n", c.Name, f(c.Precision), f(c.Recall), f(c.F1), c.Support)
	}
	tw.Flush()
	if m.Confusion == nil {
		_, err := fmt.Fprintf(w, "\n(no confusion matrix: %d classes, more than %d)\n", len(ds.Classes), parallel.MaxConfusionClasses)
		return err
	}
	fmt.Fprintln(w, "\nconfusion matrix (rows: true class, columns: predicted)")
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, c := range ds.Classes {
		fmt.Fprintf(tw, "%s\t", c)
	}
	fmt.Fprintln(tw)
	for i, row := range m.Confusion {
		fmt.Fprintf(tw, "%s\t", ds.Classes[i])
		for _, v := range row {
			fmt.Fprintf(tw, "%d\t", v)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
