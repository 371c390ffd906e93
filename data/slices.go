package data

import (
	"fmt"
	"math"
	"strconv"
)

// FromSlices builds a classification dataset from rows of features, x[i]
// being sample i's, and a class per sample, labels[i] in
// [0, len(classes)). classes names the classes; nil names them "0", "1",
// … up to the largest label. The data are copied, and checked: every row
// as long as the first, one label per row, labels in range, every feature
// finite. The dataset is named "slices"; set Name for messages of your
// own.
func FromSlices(x [][]float64, labels []int, classes []string) (*Dataset, error) {
	d, err := fromRows(x)
	if err != nil {
		return nil, err
	}
	if len(labels) != len(x) {
		return nil, fmt.Errorf("%s: %d rows, %d labels", d.Name, len(x), len(labels))
	}
	if classes == nil {
		top := -1
		for _, l := range labels {
			top = max(top, l)
		}
		for c := 0; c <= top; c++ {
			classes = append(classes, strconv.Itoa(c))
		}
	}
	d.Classes = append([]string(nil), classes...)
	d.Labels = make([]int32, len(labels))
	for i, l := range labels {
		if l < 0 || l >= len(classes) || l > math.MaxInt32 {
			return nil, fmt.Errorf("%s: sample %d: label %d, want 0 to %d (%d classes)", d.Name, i, l, len(classes)-1, len(classes))
		}
		d.Labels[i] = int32(l)
	}
	return d, d.Validate()
}

// RegressionFromSlices builds a regression dataset from rows of features,
// x[i] being sample i's, and rows of targets, y[i] being its targets
// (every row of y as long, Outputs). The data are copied and checked as by
// FromSlices; every target must be finite too.
func RegressionFromSlices(x, y [][]float64) (*Dataset, error) {
	d, err := fromRows(x)
	if err != nil {
		return nil, err
	}
	if len(y) != len(x) {
		return nil, fmt.Errorf("%s: %d rows of features, %d of targets", d.Name, len(x), len(y))
	}
	d.Task = Regression
	if d.Targets, d.Outputs, err = flatRows(d.Name, "targets", y); err != nil {
		return nil, err
	}
	return d, d.Validate()
}

// fromRows copies the feature rows into a new dataset.
func fromRows(x [][]float64) (*Dataset, error) {
	d := &Dataset{Name: "slices", N: len(x)}
	if len(x) == 0 {
		return nil, fmt.Errorf("%s: no samples", d.Name)
	}
	var err error
	if d.F64, d.Features, err = flatRows(d.Name, "features", x); err != nil {
		return nil, err
	}
	return d, nil
}

// flatRows copies rows of equal, non-zero width into one slice.
func flatRows(name, what string, rows [][]float64) ([]float64, int, error) {
	w := len(rows[0])
	if w == 0 {
		return nil, 0, fmt.Errorf("%s: sample 0 has no %s", name, what)
	}
	flat := make([]float64, 0, len(rows)*w)
	for i, r := range rows {
		if len(r) != w {
			return nil, 0, fmt.Errorf("%s: sample %d has %d %s, sample 0 has %d", name, i, len(r), what, w)
		}
		flat = append(flat, r...)
	}
	return flat, w, nil
}

// Validate reports the first inconsistency of d, naming the sample: the
// shape checks of Fits (the lengths of the slices against N, Features and
// Outputs, exactly one of U8 and F64, labels within Classes) and then a
// scan for features, targets and transform values that are NaN or
// infinite. Datasets from this package's readers are valid; one built by
// hand may not be, and training it would panic or learn from NaN.
func (d *Dataset) Validate() error {
	if err := d.checkShape(); err != nil {
		return err
	}
	for i, v := range d.F64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: sample %d: feature %d is %v", d.Name, i/d.Features, i%d.Features, v)
		}
	}
	for i, v := range d.Targets {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: sample %d: target %d is %v", d.Name, i/d.Outputs, i%d.Outputs, v)
		}
	}
	for j := range d.Features {
		if (d.Scale != nil && !finite(d.Scale[j])) || (d.Shift != nil && !finite(d.Shift[j])) {
			return fmt.Errorf("%s: the transform of feature %d is not finite", d.Name, j)
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Fits reports whether d can feed a model with inputs inputs and outputs
// outputs: its slices are consistent (Validate's shape checks, which cost
// a pass over the labels, not over the features), it has inputs features,
// and its targets fit outputs (TargetWidth). The trainer checks every
// dataset it is given so.
func (d *Dataset) Fits(inputs, outputs int) error {
	if err := d.checkShape(); err != nil {
		return err
	}
	if d.Features != inputs {
		return fmt.Errorf("%s has %d features, the model takes %d", d.Name, d.Features, inputs)
	}
	return d.TargetWidth(outputs)
}

// checkShape is Validate without the scan of the values.
func (d *Dataset) checkShape() error {
	if d.N < 0 || d.Features < 1 {
		return fmt.Errorf("%s: %d samples of %d features", d.Name, d.N, d.Features)
	}
	want := d.N * d.Features
	switch {
	case (d.U8 == nil) == (d.F64 == nil) && want > 0:
		return fmt.Errorf("%s: exactly one of U8 and F64 must hold the features", d.Name)
	case d.U8 != nil && len(d.U8) != want, d.F64 != nil && len(d.F64) != want:
		return fmt.Errorf("%s: %d feature values, want %d samples × %d features", d.Name, len(d.U8)+len(d.F64), d.N, d.Features)
	case d.Scale != nil && len(d.Scale) != d.Features, d.Shift != nil && len(d.Shift) != d.Features:
		return fmt.Errorf("%s: a transform of %d scales and %d shifts for %d features", d.Name, len(d.Scale), len(d.Shift), d.Features)
	case d.RowLines != nil && len(d.RowLines) != d.N:
		return fmt.Errorf("%s: %d row lines for %d samples", d.Name, len(d.RowLines), d.N)
	}
	if d.Task == Regression {
		if d.Outputs < 1 || len(d.Targets) != d.N*d.Outputs {
			return fmt.Errorf("%s: %d target values, want %d samples × %d outputs", d.Name, len(d.Targets), d.N, d.Outputs)
		}
		return nil
	}
	if len(d.Labels) != d.N {
		return fmt.Errorf("%s: %d labels for %d samples", d.Name, len(d.Labels), d.N)
	}
	for i, l := range d.Labels {
		if l < 0 || int(l) >= len(d.Classes) {
			return fmt.Errorf("%s: sample %d: label %d, want 0 to %d (%d classes)", d.Name, i, l, len(d.Classes)-1, len(d.Classes))
		}
	}
	return nil
}
