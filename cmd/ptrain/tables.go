package main

import (
	"fmt"
	"math"
	"strings"

	ckpt "github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
)

// A CSV table is read raw (data.CSVOptions.Raw) and encoded by a
// data.Preprocess: fitted on the training split by a new run, the
// checkpoint's for a resumed run, eval and predict. A checkpoint written
// before ptrain.preprocess has none, and its tables are read as they were
// then: every cell a number, columns by position.

// prepOptions are the flags' preprocessing options.
func prepOptions(c *Config) data.PrepOptions {
	return data.PrepOptions{
		Features: list(c.Features), Drop: list(c.Drop), Categorical: list(c.Categorical), NA: naCells(c.NA),
		Impute: c.Impute, Indicators: c.ImputeIndicators, TargetScale: c.TargetScale,
	}
}

// list splits a comma-separated flag value; "" is nil.
func list(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// naCells are the cells -na reads as missing: the empty cell and the list.
func naCells(s string) []string { return append([]string{""}, list(s)...) }

// preprocess fits the table preprocessing on the raw training split (or
// takes fitted, a resumed run's) and encodes every split with it.
func (s *splits) preprocess(c *Config, fitted *data.Preprocess) error {
	p := fitted
	if p == nil {
		var err error
		if p, err = data.FitPreprocess(s.train, prepOptions(c)); err != nil {
			return errUsage{err}
		}
		if err := distinctHeader(strings.TrimPrefix(c.Data, "csv:"), c.CSVSkip+1, p); err != nil {
			return err
		}
		if _, err := ckpt.EncodePreprocess(p); err != nil { // before training a model that could not be saved
			return fmt.Errorf("-data %s: %w", c.Data, err)
		}
	}
	for _, d := range []**data.Dataset{&s.train, &s.val, &s.test} {
		if *d == nil {
			continue
		}
		enc, warns, err := p.Apply(*d)
		if err != nil {
			return err
		}
		for _, w := range warns {
			warnf("%s", w)
		}
		p.ScaleTargets(enc)
		*d = enc
	}
	s.prep = p
	return nil
}

// distinctHeader refuses a header with an empty or repeated column name
// for a preprocessing that finds its columns by name — the rule
// data.Preprocess.Validate holds a checkpoint to, checked when the
// preprocessing is fitted, before training, and said with the file and
// line, which Validate cannot name.
func distinctHeader(file string, line int, p *data.Preprocess) error {
	if !p.ByName {
		return nil
	}
	seen := map[string]bool{}
	for _, col := range p.Columns {
		n := col.Name
		if n == "" {
			return fmt.Errorf("%s: line %d: a column without a name: a model finds its columns by name, so each needs one (or give -csv-header=false and refer to columns by index)", file, line)
		}
		if seen[n] {
			return fmt.Errorf("%s: line %d: two columns named %q: a model finds its columns by name, so each needs its own (or give -csv-header=false and refer to columns by index)", file, line, n)
		}
		seen[n] = true
	}
	return nil
}

// warnScales warns when the training split's features differ in scale by
// more than 100× and the command chose -normalize none (a table is
// standardised by default): an MLP then learns mostly from the large ones
// (the wine table: 39% unscaled, 94% with -normalize zscore).
func warnScales(d *data.Dataset, c *Config) {
	if c.Normalize != "none" || !c.given["normalize"] || d.F64 == nil || d.N < 2 {
		return
	}
	lo, hi := -1, -1
	sd := make([]float64, d.Features)
	for j := range d.Features {
		var s, ss float64
		for i := range d.N {
			v := d.Value(i, j)
			s += v
			ss += v * v
		}
		mean := s / float64(d.N)
		sd[j] = math.Sqrt(max(ss/float64(d.N)-mean*mean, 0))
		if sd[j] == 0 {
			continue
		}
		if lo < 0 || sd[j] < sd[lo] {
			lo = j
		}
		if hi < 0 || sd[j] > sd[hi] {
			hi = j
		}
	}
	if lo < 0 || sd[hi] <= 100*sd[lo] {
		return
	}
	name := func(j int) string {
		if d.Columns != nil {
			return fmt.Sprintf("%q", d.Columns[j])
		}
		return fmt.Sprintf("%d", j)
	}
	warnf("the features differ in scale by %.0f× (standard deviation %.3g of feature %s, %.3g of %s) and are used unscaled (-normalize none): leave -normalize out, or give -normalize zscore", sd[hi]/sd[lo], sd[hi], name(hi), sd[lo], name(lo))
}

// encode maps a raw table through the checkpoint's preprocessing; data read
// as numbers (a checkpoint without one) is returned as it is.
func (ck *checkpoint) encode(ds *data.Dataset) (*data.Dataset, error) {
	if ck.Preprocess == nil {
		return ds, nil
	}
	enc, warns, err := ck.Preprocess.Apply(ds)
	if err != nil {
		return nil, fmt.Errorf("%w (the preprocessing of %s)", err, ck.path)
	}
	for _, w := range warns {
		warnf("%s", w)
	}
	return enc, nil
}

// describeTargets says in which units a regression run's losses are.
func describeTargets(s *splits) string {
	if s.prep == nil || s.prep.TargetScale == nil {
		return ""
	}
	var parts []string
	for k := range s.prep.TargetScale {
		sd := 1 / s.prep.TargetScale[k]
		parts = append(parts, fmt.Sprintf("mean %.6g, sd %.6g", -s.prep.TargetShift[k]*sd, sd))
	}
	return fmt.Sprintf("ptrain: the regression targets are standardised on the training split (%s): train_loss and val_loss are in standard deviations squared; eval and predict report the data's units (-target-scale none trains on the raw targets)", strings.Join(parts, "; "))
}
