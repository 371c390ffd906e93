package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/data"
)

// splits are the datasets of a run. test and val may be nil.
type splits struct {
	name             string
	train, val, test *data.Dataset
	transform        data.Transform
}

// testSeed fixes the held-out test set of datasets without one, whatever
// -seed says, so that runs with different seeds are compared on the same
// samples.
const testSeed = 20240601

// mnistDirs are searched, in order, for "mnist" without a directory.
var mnistDirs = []string{"../shared/datasets/mnist", "shared/datasets/mnist", "/usr/share/datasets/mnist"}

// loadDataset reads the dataset c.Data names and returns it whole plus its
// standard test split, if it has one.
func loadDataset(c *Config, classes []string) (all, test *data.Dataset, err error) {
	kind, arg, _ := strings.Cut(c.Data, ":")
	switch kind {
	case "digits":
		all, err = data.Digits()
	case "mnist", "fashion-mnist":
		dir := arg
		if dir == "" {
			dir = data.FashionMNISTDir
			if kind == "mnist" {
				dir = mnistDirs[0]
				for _, d := range mnistDirs {
					if _, e := os.Stat(d); e == nil {
						dir = d
						break
					}
				}
			}
		}
		return data.LoadMNIST(dir, kind == "fashion-mnist")
	case "csv":
		if arg == "" {
			return nil, nil, fmt.Errorf("-data csv:FILE: no file named")
		}
		comma, _ := delimiter(c.CSVDelim)
		task := data.Classification
		if c.Task == "regression" {
			task = data.Regression
		}
		all, err = data.ReadCSVFile(arg, data.CSVOptions{Comma: comma, Skip: c.CSVSkip, Header: c.CSVHeader, Label: c.Label, Task: task, Classes: classes})
	case "synthetic":
		k, ns, _ := strings.Cut(arg, ":")
		n := 1000
		if ns != "" {
			if n, err = strconv.Atoi(ns); err != nil || n < 2 || n > 10_000_000 {
				return nil, nil, fmt.Errorf("-data %s: sample count %q must be an integer in [2, 10000000]", c.Data, ns)
			}
		}
		all, err = data.Synthetic(k, n, c.Seed)
	default:
		return nil, nil, fmt.Errorf("-data %q: want digits, mnist[:DIR], fashion-mnist[:DIR], csv:FILE or synthetic:KIND[:N]", c.Data)
	}
	return all, nil, err
}

// testFraction is the share of a dataset without a test set of its own that
// is held out as one: -test, or by default 0.2 for the built-in sets and
// none for the user's CSV.
func testFraction(c *Config) float64 {
	if c.Test != -1 {
		return c.Test
	}
	if k, _, _ := strings.Cut(c.Data, ":"); k == "digits" || k == "synthetic" {
		return 0.2
	}
	return 0
}

// loadSplits loads the dataset and cuts it into train, validation and test
// sets, then fits the -normalize transform on the training split and applies
// it to all three.
func loadSplits(c *Config) (*splits, error) {
	all, test, err := loadDataset(c, nil)
	if err != nil {
		return nil, err
	}
	s := &splits{name: c.Data}
	if test == nil {
		if all, test, err = all.Split(testFraction(c), testSeed); err != nil {
			return nil, fmt.Errorf("-test: %w", err)
		}
	}
	s.test = test
	if c.ValOnTest {
		if test == nil {
			return nil, fmt.Errorf("-val-on-test: %s has no test split (give -test)", c.Data)
		}
		s.train, s.val = all, test
	} else if s.train, s.val, err = all.Split(c.Val, c.Seed); err != nil {
		return nil, fmt.Errorf("-val: %w", err)
	}
	if c.Normalize != "none" {
		t, err := data.Fit(s.train, c.Normalize)
		if err != nil {
			return nil, fmt.Errorf("-normalize: %w", err)
		}
		s.setTransform(t)
	}
	s.transform = data.Transform{Scale: s.train.Scale, Shift: s.train.Shift}
	return s, nil
}

// setTransform applies t to every split and records it as the run's.
func (s *splits) setTransform(t data.Transform) {
	for _, d := range []*data.Dataset{s.train, s.val, s.test} {
		if d != nil {
			t.Apply(d)
		}
	}
	s.transform = t
}

// batchRows is the batch size the trainer's buffers are made for: -batch,
// or the largest split if that is smaller. A batch never holds more rows
// than its split, so the training and the evaluations are the same, and
// an absurd -batch costs nothing.
func (s *splits) batchRows(batch int) int {
	rows := 1
	for _, d := range []*data.Dataset{s.train, s.val, s.test} {
		if d != nil {
			rows = max(rows, d.N)
		}
	}
	return min(batch, rows)
}

// describe is one line about the splits for the run's first output.
func (s *splits) describe() string {
	n := func(d *data.Dataset) string {
		if d == nil {
			return "0"
		}
		return strconv.Itoa(d.N)
	}
	return fmt.Sprintf("%s: %s train / %s validation / %s test samples, %d features", s.name, n(s.train), n(s.val), n(s.test), s.train.Features)
}

// absData makes a dataset spec's path absolute, so that a checkpoint's
// config still finds the data when eval or -resume run in another directory.
func absData(spec string) string {
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok || arg == "" || kind == "synthetic" {
		return spec
	}
	if a, err := filepath.Abs(arg); err == nil {
		return kind + ":" + a
	}
	return spec
}
