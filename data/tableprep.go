package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Preprocess turns the raw feature columns of a table (ReadCSV with
// CSVOptions.Raw) into a model's features, as scikit-learn's
// ColumnTransformer of a SimpleImputer, a MissingIndicator and a
// OneHotEncoder(handle_unknown="ignore") would: fitted once on the
// training split (FitPreprocess), stored with the model (package
// checkpoint keeps it as JSON), and applied to every split and to
// evaluation and prediction input (Apply), which may order its columns
// differently.
//
// It is plain data, so that an exporter can express it: per input column
// whether it is kept, its imputation value, its categories; the regression
// target's standardisation. A feature transform (-normalize) applies after
// it, to the features it makes.
type Preprocess struct {
	// Columns are the feature columns of the training file, in file
	// order; label columns are not among them.
	Columns []PrepColumn `json:"columns"`
	// ByName says the training file had a header: a file with one is
	// matched to Columns by name, in any order. Otherwise by position.
	ByName bool `json:"by_name"`
	// NA are the cells read as missing (CSVOptions.NA).
	NA []string `json:"na"`
	// Labels name the training file's label columns, when it had a
	// header: Apply ignores them without a warning.
	Labels []string `json:"labels,omitempty"`
	// TargetScale and TargetShift standardise a regression model's
	// targets: the model learns y·TargetScale[k] + TargetShift[k] and
	// its outputs are mapped back by UnscaleOutput. Nil when off.
	TargetScale []float64 `json:"target_scale,omitempty"`
	TargetShift []float64 `json:"target_shift,omitempty"`
}

// PrepColumn is how one input column becomes features: dropped, or one
// number (impute, then the value), or one 0/1 feature per category; plus,
// with Indicator, a 0/1 feature that is 1 where the cell was missing.
type PrepColumn struct {
	Name  string `json:"name,omitempty"` // the header's, "" without one
	Index int    `json:"index"`          // 0-based position in the training file
	Drop  bool   `json:"drop,omitempty"`
	// Categories, for a categorical column, are the texts seen in the
	// training split, sorted (numerically if all are numbers), one feature
	// each. A number is compared as its shortest text ("1.0" is "1"). A
	// category not among them is all zeros.
	Categorical bool     `json:"categorical,omitempty"`
	Categories  []string `json:"categories,omitempty"`
	// Impute is how a missing cell is filled: "" (refused, as -impute
	// error), or the strategy whose fitted value is Fill (a numeric
	// column) or FillCategory (a categorical one: "" is all zeros).
	Impute       string  `json:"impute,omitempty"`
	Fill         float64 `json:"fill"`
	FillCategory string  `json:"fill_category,omitempty"`
	Indicator    bool    `json:"indicator,omitempty"`
}

// PrepOptions says how FitPreprocess builds a Preprocess. Column lists
// hold header names or 0-based positions in the file.
type PrepOptions struct {
	Features    []string // the columns to keep (nil: all but the labels)
	Drop        []string // columns to drop
	Categorical []string // numeric columns to one-hot encode as well as the text ones
	// Impute is error (or ""), mean, median, most_frequent or zero.
	Impute string
	// Indicators adds a missing-value feature for every column with a
	// missing cell in the training split (MissingIndicator's
	// features="missing-only").
	Indicators bool
	// TargetScale is zscore or none (or ""), for regression targets.
	TargetScale string
	NA          []string // as given to ReadCSV; nil means DefaultNA
}

// The imputation strategies.
var imputeKinds = []string{"mean", "median", "most_frequent", "zero"}

// FitPreprocess fits a Preprocess on the training split train, a raw table
// from ReadCSV with CSVOptions.Raw. Errors name the column and what to do:
// a missing cell without -impute, a text column of more than MaxLevels
// texts, a column named that the table does not have.
func FitPreprocess(train *Dataset, opt PrepOptions) (*Preprocess, error) {
	if train.Levels == nil || train.Source == nil {
		return nil, fmt.Errorf("%s: not a raw table (read with CSVOptions.Raw)", train.Name)
	}
	if opt.Impute == "error" {
		opt.Impute = ""
	}
	if opt.Impute != "" && !slices.Contains(imputeKinds, opt.Impute) {
		return nil, fmt.Errorf("-impute %q: want error, mean, median, most_frequent or zero", opt.Impute)
	}
	if opt.TargetScale != "" && opt.TargetScale != "none" && opt.TargetScale != "zscore" {
		return nil, fmt.Errorf("-target-scale %q: want zscore or none", opt.TargetScale)
	}
	p := &Preprocess{ByName: train.Columns != nil, NA: opt.NA, Labels: train.LabelColumns}
	if p.NA == nil {
		p.NA = DefaultNA
	}
	pick := func(flag string, specs []string) ([]bool, error) {
		set := make([]bool, train.Features)
		for _, s := range specs {
			j, err := train.findColumn(s)
			if err != nil {
				return nil, fmt.Errorf("-%s: %w", flag, err)
			}
			set[j] = true
		}
		return set, nil
	}
	keep, err := pick("features", opt.Features)
	if err != nil {
		return nil, err
	}
	drop, err := pick("drop", opt.Drop)
	if err != nil {
		return nil, err
	}
	forced, err := pick("categorical", opt.Categorical)
	if err != nil {
		return nil, err
	}
	if err := train.CheckMixed(opt.Categorical); err != nil {
		return nil, err
	}
	for j := range train.Features {
		c := PrepColumn{Index: train.Source[j], Drop: drop[j] || (opt.Features != nil && !keep[j])}
		if train.Columns != nil {
			c.Name = train.Columns[j]
		}
		if !c.Drop {
			if err := c.fit(train, j, forced[j], opt); err != nil {
				return nil, err
			}
		}
		p.Columns = append(p.Columns, c)
	}
	if p.Features() == 0 {
		return nil, fmt.Errorf("%s: no feature columns are left (-features, -drop)", train.Name)
	}
	if train.Task == Regression && opt.TargetScale == "zscore" {
		p.TargetScale, p.TargetShift = make([]float64, train.Outputs), make([]float64, train.Outputs)
		for k := range train.Outputs {
			var s, ss float64
			for i := range train.N {
				v := train.Targets[i*train.Outputs+k]
				s += v
				ss += v * v
			}
			mean := s / float64(train.N)
			sd := math.Sqrt(max(ss/float64(train.N)-mean*mean, 0))
			if !(sd > 1e-12*max(1, math.Abs(mean))) {
				sd = 1 // a constant target is centred, never divided by zero
			}
			p.TargetScale[k], p.TargetShift[k] = 1/sd, -mean/sd
		}
	}
	return p, nil
}

// CheckMixed refuses a raw table's column that holds numbers and text,
// unless categorical (names or 0-based positions) names it: a number
// column with a stray word in it is more likely a typo or an unlisted
// missing-value mark than a categorical column. The error names the first
// text cell, its line and the flags that resolve it.
func (d *Dataset) CheckMixed(categorical []string) error {
	forced := make([]bool, d.Features)
	for _, s := range categorical {
		if j, err := d.findColumn(s); err == nil {
			forced[j] = true
		}
	}
	for j, levels := range d.Levels {
		if levels == nil || forced[j] {
			continue
		}
		text, numbers := -1, 0
		for k, s := range levels {
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				numbers++
			} else if text < 0 {
				text = k
			}
		}
		if numbers == 0 || text < 0 {
			continue
		}
		row := 0
		for row < d.N && d.F64[row*d.Features+j] != float64(text) {
			row++
		}
		// A split shares the whole table's Levels: the text may be in no
		// row of d, only in the rows held out of it.
		where := fmt.Sprintf("row %d", row)
		switch {
		case row == d.N:
			where = "a held-out row"
		case d.RowLines != nil:
			where = fmt.Sprintf("line %d", d.RowLines[row])
		}
		name := d.columnName(j)
		return &FormatError{File: d.Name, Where: where + ", column " + name, Msg: fmt.Sprintf(
			"field %q is not a number, and %d other values of the column are: correct it, give -na %q to read it as missing, or -categorical %s to one-hot encode the column",
			levels[text], numbers, levels[text], strings.Trim(name, `"`))}
	}
	return nil
}

// findColumn resolves a column spec (a header name, or a 0-based position
// in the file) to a feature column of d.
func (d *Dataset) findColumn(spec string) (int, error) {
	spec = strings.TrimSpace(spec)
	if j := slices.Index(d.Columns, spec); j >= 0 {
		return j, nil
	}
	if i, err := strconv.Atoi(spec); err == nil {
		if j := slices.Index(d.Source, i); j >= 0 {
			return j, nil
		}
		return 0, fmt.Errorf("column %d is not a feature column of %s (0-based; the label columns are not features)", i, d.Name)
	}
	if d.Columns == nil {
		return 0, fmt.Errorf("column %q: %s has no header to look names up in (give a 0-based index)", spec, d.Name)
	}
	return 0, fmt.Errorf("no feature column %q in %s (columns %q)", spec, d.Name, d.Columns)
}

// columnName names column j of d for messages.
func (d *Dataset) columnName(j int) string {
	if d.Columns != nil {
		return strconv.Quote(d.Columns[j])
	}
	return strconv.Itoa(d.Source[j])
}

// fit fits column j of the raw training split d.
func (c *PrepColumn) fit(d *Dataset, j int, forced bool, opt PrepOptions) error {
	name := d.columnName(j)
	if d.Overflow[j] {
		return fmt.Errorf("column %s of %s has more than %d distinct texts: an identifier or free text, not a category (drop it: -drop %s)", name, d.Name, MaxLevels, strings.Trim(name, `"`))
	}
	var present []float64
	missing := 0
	for i := range d.N {
		if v := d.F64[i*d.Features+j]; math.IsNaN(v) {
			missing++
		} else {
			present = append(present, v)
		}
	}
	if missing > 0 && opt.Impute == "" {
		return fmt.Errorf("column %s of %s: %d of %d cells in the training split are missing (%s): give -impute mean, median, most_frequent or zero (and -impute-indicators to add a feature that marks them), or -drop %s",
			name, d.Name, missing, d.N, naList(opt.NA), strings.Trim(name, `"`))
	}
	if missing == d.N {
		return fmt.Errorf("column %s of %s: every cell in the training split is missing: -drop %s", name, d.Name, strings.Trim(name, `"`))
	}
	c.Impute, c.Indicator = opt.Impute, opt.Indicators && missing > 0
	if d.Levels[j] != nil || forced {
		c.Categorical = true
		count := map[string]int{}
		for _, v := range present {
			count[levelText(d, j, v)]++
		}
		for s := range count {
			c.Categories = append(c.Categories, s)
		}
		sortNumericFirst(c.Categories)
		if c.Impute == "most_frequent" {
			best := 0
			for _, s := range c.Categories { // the first of the sorted ties, as scikit-learn
				if count[s] > best {
					best, c.FillCategory = count[s], s
				}
			}
		}
		return nil
	}
	switch c.Impute {
	case "mean":
		var s float64
		for _, v := range present {
			s += v
		}
		c.Fill = s / float64(len(present))
	case "median":
		slices.Sort(present)
		n := len(present)
		c.Fill = present[n/2]
		if n%2 == 0 {
			c.Fill = (present[n/2-1] + present[n/2]) / 2
		}
	case "most_frequent":
		slices.Sort(present)
		best, run := 0, 0
		for i := range present {
			if i > 0 && present[i] == present[i-1] {
				run++
			} else {
				run = 1
			}
			if run > best { // strictly more: the smallest of ties
				best, c.Fill = run, present[i]
			}
		}
	}
	return nil
}

// levelText is the text of raw value v in column j: its level in a text
// column, its canonical text in a numeric one.
func levelText(d *Dataset, j int, v float64) string {
	if d.Levels[j] != nil {
		return d.Levels[j][int(v)]
	}
	return canonical(v)
}

func naList(na []string) string {
	if na == nil {
		na = DefaultNA
	}
	q := make([]string, len(na))
	for i, s := range na {
		q[i] = strconv.Quote(s)
	}
	return "cells " + strings.Join(q, ", ")
}

// Features is the number of features p makes per row.
func (p *Preprocess) Features() int {
	n := 0
	for _, c := range p.Columns {
		n += c.width()
	}
	return n
}

func (c *PrepColumn) width() int {
	w := 0
	switch {
	case c.Drop:
		return 0
	case c.Categorical:
		w = len(c.Categories)
	default:
		w = 1
	}
	if c.Indicator {
		w++
	}
	return w
}

// FeatureNames names the features p makes: a column's name (or its
// 0-based position), name=category for one-hot features, name_missing for
// an indicator.
func (p *Preprocess) FeatureNames() []string {
	var names []string
	for _, c := range p.Columns {
		if c.Drop {
			continue
		}
		name := c.label()
		if c.Categorical {
			for _, s := range c.Categories {
				names = append(names, name+"="+s)
			}
		} else {
			names = append(names, name)
		}
		if c.Indicator {
			names = append(names, name+"_missing")
		}
	}
	return names
}

func (c *PrepColumn) label() string {
	if c.Name != "" {
		return c.Name
	}
	return strconv.Itoa(c.Index)
}
