package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Apply encodes a raw table (ReadCSV with CSVOptions.Raw and p.NA) into
// a new Dataset of p.Features() features named by FeatureNames; labels
// and targets are shared with raw, not copied. Columns are matched by name
// when p was fitted on a file with a header and raw has one (any order;
// columns p does not know are ignored, and reported in the warnings), by
// position otherwise (then raw must have as many feature columns). A
// column p needs and raw lacks, a missing cell without imputation and text
// in a numeric column are errors that name the column; a category the
// training split did not have is all zeros, with a warning.
//
// Apply does not modify p, and may run concurrently with other Applys.
func (p *Preprocess) Apply(raw *Dataset) (*Dataset, []string, error) {
	if raw.Levels == nil || raw.F64 == nil {
		return nil, nil, fmt.Errorf("%s: not a raw table (read with CSVOptions.Raw)", raw.Name)
	}
	src, warnings, err := p.match(raw)
	if err != nil {
		return nil, nil, err
	}
	f := p.Features()
	out := *raw
	out.F64, out.Features, out.Columns = make([]float64, raw.N*f), f, p.FeatureNames()
	out.Source, out.Levels, out.Overflow, out.Scale, out.Shift = nil, nil, nil, nil, nil
	at := 0 // feature offset of column k
	line := func(i int) string {
		if raw.RowLines != nil {
			return fmt.Sprintf("line %d", raw.RowLines[i])
		}
		return fmt.Sprintf("row %d", i)
	}
	for k := range p.Columns {
		c := &p.Columns[k]
		if c.Drop {
			continue
		}
		j := src[k]
		if raw.Overflow[j] {
			return nil, nil, fmt.Errorf("%s: column %s has more than %d distinct texts, not numbers or the model's categories", raw.Name, p.columnIn(raw, k, j), MaxLevels)
		}
		var index map[string]int
		if c.Categorical {
			index = make(map[string]int, len(c.Categories))
			for n, s := range c.Categories {
				index[s] = n
			}
		}
		missing, unseen, firstMissing := 0, 0, -1
		var unseenText []string
		for i := range raw.N {
			v := raw.F64[i*raw.Features+j]
			row := out.F64[i*f+at : (i+1)*f]
			isNA := math.IsNaN(v)
			if isNA {
				if missing++; firstMissing < 0 {
					firstMissing = i
				}
			}
			switch {
			case c.Categorical && isNA:
				if n, ok := index[c.FillCategory]; ok {
					row[n] = 1
				}
			case c.Categorical:
				s := levelText(raw, j, v)
				if n, ok := index[s]; ok {
					row[n] = 1
				} else if unseen++; len(unseenText) < 3 && !slices.Contains(unseenText, s) {
					unseenText = append(unseenText, s)
				}
			case isNA:
				row[0] = c.Fill
			case raw.Levels[j] != nil:
				// A text anywhere in the column made every cell a level,
				// the numbers too (as their canonical text): only a
				// level that is not a number is the error.
				if x, err := strconv.ParseFloat(raw.Levels[j][int(v)], 64); err == nil {
					row[0] = x
					break
				}
				return nil, nil, fmt.Errorf("%s: %s, column %s: %q is not a number, and the model was trained on numbers in this column", raw.Name, line(i), p.columnIn(raw, k, j), raw.Levels[j][int(v)])
			default:
				row[0] = v
			}
			if c.Indicator && isNA {
				row[c.width()-1] = 1
			}
		}
		if missing > 0 && c.Impute == "" {
			return nil, nil, fmt.Errorf("%s: column %s has %d missing cells (the first on %s), and the model was trained without imputation (-impute error): fill them in, or train with -impute", raw.Name, p.columnIn(raw, k, j), missing, line(firstMissing))
		}
		if unseen > 0 {
			q := make([]string, len(unseenText))
			for n, s := range unseenText {
				q[n] = strconv.Quote(s)
			}
			warnings = append(warnings, fmt.Sprintf("%s: column %s: %d rows have a category the training split did not (%s): encoded as all zeros", raw.Name, p.columnIn(raw, k, j), unseen, strings.Join(q, ", ")))
		}
		at += c.width()
	}
	return &out, warnings, nil
}

// columnIn names column k of p, which is column j of raw, for messages.
func (p *Preprocess) columnIn(raw *Dataset, k, j int) string {
	if p.Columns[k].Name != "" {
		return strconv.Quote(p.Columns[k].Name)
	}
	return strconv.Itoa(raw.Source[j])
}

// match finds each of p's columns in raw: src[k] is the feature column of
// raw that holds p.Columns[k], or -1 for a dropped column raw lacks.
func (p *Preprocess) match(raw *Dataset) (src []int, warnings []string, err error) {
	src = make([]int, len(p.Columns))
	if !p.ByName || raw.Columns == nil {
		if raw.Features != len(p.Columns) {
			return nil, nil, fmt.Errorf("%s: %d feature columns, the model was trained on %d (columns are matched by position: %s)",
				raw.Name, raw.Features, len(p.Columns), p.why(raw))
		}
		for k := range src {
			src[k] = k
		}
		return src, nil, nil
	}
	used := make([]bool, raw.Features)
	var lost []string
	for k, c := range p.Columns {
		j := slices.Index(raw.Columns, c.Name)
		src[k] = j
		if j >= 0 {
			used[j] = true
		} else if !c.Drop {
			lost = append(lost, strconv.Quote(c.Name))
		}
	}
	if len(lost) > 0 {
		return nil, nil, fmt.Errorf("%s: no column %s, which the model was trained on (the header has %q)", raw.Name, strings.Join(lost, ", "), raw.Columns)
	}
	var extra []string
	for j, u := range used {
		if !u && !slices.Contains(p.Labels, raw.Columns[j]) {
			extra = append(extra, strconv.Quote(raw.Columns[j]))
		}
	}
	if len(extra) > 0 {
		warnings = append(warnings, fmt.Sprintf("%s: column %s ignored: the model was not trained on it", raw.Name, strings.Join(extra, ", ")))
	}
	return src, warnings, nil
}

// why says why columns are matched by position.
func (p *Preprocess) why(raw *Dataset) string {
	if p.ByName {
		return raw.Name + " has no header"
	}
	return "the training file had no header"
}

// ScaleTargets gives d (a regression split encoded by p) p's target
// standardisation, which FillTarget then applies.
func (p *Preprocess) ScaleTargets(d *Dataset) {
	if d.Task == Regression {
		d.TargetScale, d.TargetShift = p.TargetScale, p.TargetShift
	}
}

// UnscaleOutput maps a model's output k back to the target's units: the
// inverse of the target standardisation, y = (out − TargetShift[k]) /
// TargetScale[k]; out itself without one (or with a nil p).
func (p *Preprocess) UnscaleOutput(k int, out float64) float64 {
	if p == nil || p.TargetScale == nil {
		return out
	}
	return (out - p.TargetShift[k]) / p.TargetScale[k]
}

// Validate checks p as a checkpoint stores it, for a model of inputs
// inputs and outputs outputs (regression says whether its target may be
// scaled): the widths, finite values, unique names, categories sorted and
// distinct.
func (p *Preprocess) Validate(inputs, outputs int, regression bool) error {
	if n := p.Features(); n != inputs {
		return fmt.Errorf("makes %d features, the model takes %d", n, inputs)
	}
	names := map[string]bool{}
	for k, c := range p.Columns {
		where := fmt.Sprintf("column %d (%q)", k, c.Name)
		switch {
		case p.ByName && (c.Name == "" || names[c.Name]):
			return fmt.Errorf("%s: matched by name, so every column needs a distinct name", where)
		case c.Index < 0 || (k > 0 && c.Index <= p.Columns[k-1].Index):
			return fmt.Errorf("%s: index %d: want increasing positions ≥ 0", where, c.Index)
		case c.Impute != "" && !slices.Contains(imputeKinds, c.Impute):
			return fmt.Errorf("%s: impute %q: want one of %q", where, c.Impute, imputeKinds)
		case math.IsNaN(c.Fill) || math.IsInf(c.Fill, 0):
			return fmt.Errorf("%s: fill %g is not finite", where, c.Fill)
		case !c.Categorical && (c.Categories != nil || c.FillCategory != ""):
			return fmt.Errorf("%s: categories for a numeric column", where)
		case c.Categorical && !c.Drop && len(c.Categories) == 0:
			return fmt.Errorf("%s: a categorical column without categories", where)
		case c.FillCategory != "" && !slices.Contains(c.Categories, c.FillCategory):
			return fmt.Errorf("%s: fill category %q is not one of its categories", where, c.FillCategory)
		}
		names[c.Name] = true
		sorted := slices.Clone(c.Categories)
		sortNumericFirst(sorted)
		if !slices.Equal(sorted, slices.Compact(slices.Clone(sorted))) || !slices.Equal(sorted, c.Categories) {
			return fmt.Errorf("%s: categories %q: want them sorted and distinct", where, c.Categories)
		}
	}
	if p.TargetScale == nil && p.TargetShift == nil {
		return nil
	}
	if !regression || len(p.TargetScale) != outputs || len(p.TargetShift) != outputs {
		return fmt.Errorf("a target scaling of %d scales and %d shifts, for a %s model of %d outputs", len(p.TargetScale), len(p.TargetShift), map[bool]string{true: "regression", false: "classification"}[regression], outputs)
	}
	for k := range outputs {
		if s, t := p.TargetScale[k], p.TargetShift[k]; !(s > 0) || math.IsInf(s, 0) || math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Errorf("target scaling of output %d: scale %g, shift %g: want a finite scale > 0 and a finite shift", k, s, t)
		}
	}
	return nil
}

// Describe is p in lines of text, one per input column and one for the
// target, as ptrain info prints it.
func (p *Preprocess) Describe() []string {
	var lines []string
	for _, c := range p.Columns {
		s := fmt.Sprintf("column %d %s: ", c.Index, strconv.Quote(c.Name))
		switch {
		case c.Drop:
			s += "dropped"
		case c.Categorical:
			s += fmt.Sprintf("one-hot, %d categories %q", len(c.Categories), c.Categories)
		default:
			s += "numeric"
		}
		switch {
		case c.Drop || c.Impute == "":
		case c.Categorical && c.FillCategory != "":
			s += fmt.Sprintf(", missing → %q (%s)", c.FillCategory, c.Impute)
		case c.Categorical:
			s += fmt.Sprintf(", missing → all zeros (%s)", c.Impute)
		default:
			s += fmt.Sprintf(", missing → %g (%s)", c.Fill, c.Impute)
		}
		if c.Indicator {
			s += ", with a missing-value feature"
		}
		lines = append(lines, s)
	}
	for k := range p.TargetScale {
		lines = append(lines, fmt.Sprintf("target %d: standardised, y·%.6g + %.6g (mean %.6g, sd %.6g; outputs are mapped back)", k, p.TargetScale[k], p.TargetShift[k], -p.TargetShift[k]/p.TargetScale[k], 1/p.TargetScale[k]))
	}
	return lines
}
