package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/data"
)

// splits are the datasets of a run. test and val may be nil.
type splits struct {
	name             string
	train, val, test *data.Dataset
	transform        data.Transform
	prep             *data.Preprocess // a CSV table's; nil for other data
	split            data.SplitInfo   // how test was held out, and of what data
	inputRange       data.Range       // of train's transformed features
	shape            []int            // C, H, W of a folder's images; nil for other data
}

// testSeed fixes the held-out test set of datasets without one, whatever
// -seed says, so that runs with different seeds are compared on the same
// samples: data.TestSeed, the one definition Go programs use too.
const testSeed = data.TestSeed

// dataEnv names the directory that holds mnist/ and fashion-mnist/ for
// -data mnist and -data fashion-mnist without a directory.
const dataEnv = "PTRAIN_DATA"

// imageDir is the directory of -data mnist[:DIR] or fashion-mnist[:DIR]:
// DIR, else $PTRAIN_DATA/KIND, else Debian's for Fashion-MNIST if it is
// installed, else ptrain/KIND in the user's cache directory (download.go).
// A $PTRAIN_DATA without fashion-mnist's files also gives way to Debian's.
func imageDir(kind, dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if root := os.Getenv(dataEnv); root != "" {
		dir := filepath.Join(root, kind)
		if kind == "fashion-mnist" && !hasImages(kind, dir) && hasImages(kind, debianFashionDir) {
			return debianFashionDir, nil // as the README's table says: $PTRAIN_DATA's, else Debian's
		}
		return dir, nil
	}
	if kind == "fashion-mnist" && hasImages(kind, debianFashionDir) {
		return debianFashionDir, nil
	}
	return cacheDir(kind)
}

// debianFashionDir is where Debian's dataset-fashion-mnist package puts
// Fashion-MNIST; tests point it elsewhere.
var debianFashionDir = data.FashionMNISTDir

// dataKinds are the -data forms, for messages.
const dataKinds = "digits, mnist[:DIR], fashion-mnist[:DIR], csv:FILE, folder:DIR or synthetic:xor|spirals|blobs|regression[:N]"

// checkDataSpec checks the form of -data without reading anything.
func checkDataSpec(spec string) error {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "digits":
		if arg != "" {
			return fmt.Errorf("-data %q: digits takes no argument", spec)
		}
	case "mnist", "fashion-mnist":
	case "csv":
		if arg == "" {
			return fmt.Errorf("-data csv:FILE: no file named")
		}
	case "folder":
		if arg == "" {
			return fmt.Errorf("-data folder:DIR: no folder named")
		}
	case "synthetic":
		_, _, err := syntheticSpec(spec)
		return err
	default:
		return fmt.Errorf("-data %q: want %s", spec, dataKinds)
	}
	return nil
}

// syntheticSpec reads synthetic:KIND[:N].
func syntheticSpec(spec string) (kind string, n int, err error) {
	_, arg, _ := strings.Cut(spec, ":")
	kind, ns, _ := strings.Cut(arg, ":")
	switch kind {
	case "xor", "spirals", "blobs", "regression":
	default:
		return "", 0, fmt.Errorf("-data %s: want synthetic:xor, spirals, blobs or regression[:N]", spec)
	}
	n = 1000
	if ns != "" {
		if n, err = strconv.Atoi(ns); err != nil || n < 2 || n > 10_000_000 {
			return "", 0, fmt.Errorf("-data %s: sample count %q must be an integer in [2, 10000000]", spec, ns)
		}
	}
	return kind, n, nil
}

// maxClasses bounds the classes of a table: a model of more outputs than
// this is not what a label column of distinct values (an ID, a
// measurement) asks for.
const maxClasses = 1 << 16

// loadDataset reads the dataset c.Data names and returns it whole plus its
// standard test split, if it has one. With raw, a CSV table is read raw,
// for a data.Preprocess.
func loadDataset(c *Config, classes []string, raw bool) (all, test *data.Dataset, err error) {
	kind, arg, _ := strings.Cut(c.Data, ":")
	switch kind {
	case "digits":
		all, err = data.Digits()
	case "mnist", "fashion-mnist":
		dir, err := imageDir(kind, arg)
		if err != nil {
			return nil, nil, errUsage{err}
		}
		if err := provideImages(kind, dir, c.Download); err != nil {
			return nil, nil, err
		}
		if all, test, err = data.LoadMNIST(dir, kind == "fashion-mnist"); err != nil {
			return nil, nil, err
		}
		return all, test, checkTask(c, all)
	case "csv":
		if arg == "" {
			return nil, nil, fmt.Errorf("-data csv:FILE: no file named")
		}
		comma, _ := delimiter(c.CSVDelim)
		task := data.Classification
		if c.Task == "regression" {
			task = data.Regression
		}
		// A scikit-learn table's skipped first line names its classes:
		// the labels 0 … n−1 are read as such and renamed.
		opt := data.CSVOptions{Comma: comma, Skip: c.CSVSkip, Header: c.CSVHeader, Label: c.Label, Task: task, Classes: classes, MaxTableBytes: int64(c.CSVMaxMiB) << 20}
		if raw {
			opt.Raw, opt.NA = true, naCells(c.NA)
		}
		if names := sklearnClassNames(arg, c.CSVSkip, comma); names != nil && task == data.Classification && (classes == nil || slices.Equal(classes, names)) {
			byIndex := opt
			byIndex.Classes = indexClasses(len(names))
			if all, err = data.ReadCSVFile(arg, byIndex); err == nil && (classes != nil || !slices.Contains(all.ClassCounts(), 0)) {
				all.Classes = names
				break
			} // labels other than 0 … n−1, or fewer: not such a table after all
		}
		all, err = data.ReadCSVFile(arg, opt)
	case "folder":
		f, err := loadFolder(c, arg, classes)
		if err != nil {
			return nil, nil, err
		}
		return f.Train, f.Test, checkTask(c, f.Train)
	case "synthetic":
		k, n, serr := syntheticSpec(c.Data)
		if serr != nil {
			return nil, nil, errUsage{serr}
		}
		all, err = data.Synthetic(k, n, c.Seed)
	default:
		return nil, nil, errUsage{fmt.Errorf("-data %q: want %s", c.Data, dataKinds)}
	}
	if errors.Is(err, data.ErrMetadataLine) {
		return nil, nil, fmt.Errorf("%w: give -csv-skip %d", err, c.CSVSkip+1)
	}
	if errors.Is(err, data.ErrTableTooLarge) {
		return nil, nil, fmt.Errorf("%w: give -csv-max-mib a larger bound than %d if the table is meant to be this large", err, cmp.Or(c.CSVMaxMiB, data.DefaultMaxTableBytes>>20))
	}
	if err != nil {
		return nil, nil, err
	}
	if kind == "csv" && c.CSVHeader && data.NumericHeader(append(slices.Clone(all.Columns), all.LabelColumns...)) {
		warnNumericHeader(arg)
	}
	if kind == "csv" && all.Task == data.Classification && len(all.Classes) > maxClasses {
		return nil, nil, fmt.Errorf("-data %s: %d distinct labels, more than the limit of %d classes (for a numeric target, -task regression)", c.Data, len(all.Classes), maxClasses)
	}
	if kind != "csv" {
		if err := checkTask(c, all); err != nil {
			return nil, nil, err
		}
	}
	return all, nil, nil
}

// checkTask refuses a -task that the dataset all of -data (not a CSV
// table, whose task -task chooses) is not: every kind of -data but csv:
// has its own, and a -task that differs would be silently ignored.
func checkTask(c *Config, all *data.Dataset) error {
	if c.Task != "" && c.Task != all.Task.String() {
		return errUsage{fmt.Errorf("-task %s: %s is a %v dataset (-task applies to csv: data)", c.Task, c.Data, all.Task)}
	}
	return nil
}

// defaultTest is the share of a dataset without a test set of its own that
// is held out as one unless -test says otherwise.
const defaultTest = 0.2

// testFraction is the share of a dataset without a test set of its own that
// is held out as one: -test, or by default 0.2. Runs saved before the
// default applied to CSV data (their config says -1) held out none of it.
func testFraction(c *Config) float64 {
	if c.Test != -1 {
		return c.Test
	}
	return defaultTest
}

// legacyTestFraction is testFraction for a checkpoint's config, whose -1
// meant 0 for CSV data when it was written.
func legacyTestFraction(c *Config) float64 {
	if k, _, _ := strings.Cut(c.Data, ":"); c.Test == -1 && k == "csv" {
		return 0
	}
	return testFraction(c)
}

// loadSplits loads the dataset and cuts it into train, validation and test
// sets, then fits a table's preprocessing and the -normalize transform on
// the training split and applies them to all three. A resumed run passes
// the checkpoint (nil for a new one): its recorded split (data.SplitInfo)
// must be held out again (the same data, by the fingerprint of the raw
// table or features; the same share and seed), and a table is encoded with
// its preprocessing, or read as numbers if it has none.
func loadSplits(c *Config, ck *checkpoint) (*splits, error) {
	table := strings.HasPrefix(c.Data, "csv:") && (ck == nil || ck.Preprocess != nil)
	s := &splits{name: c.Data}
	all, test, err := s.load(c, table)
	if err != nil {
		return nil, err
	}
	if table && (ck == nil || ck.Preprocess == nil) {
		if err := all.CheckMixed(list(c.Categorical)); err != nil {
			return nil, err // before a split can fail on a short file
		}
	}
	rec := ck.recordedSplit()
	if rec.Known() {
		if err := ck.checkSameData(all); err != nil {
			return nil, err
		}
	}
	if test == nil {
		c.Test = testFraction(c) // stored resolved in the checkpoint, for eval
		seed := uint64(testSeed)
		if rec.Known() {
			c.Test, seed = rec.Share, rec.Seed
		}
		if all, test, s.split, err = all.SplitRecorded(c.Test, seed); err != nil {
			return nil, fmt.Errorf("-test: %w", err)
		}
	} else {
		if c.Test != -1 {
			warnf("-test %g is ignored: %s has a test set of its own", c.Test, c.Data)
		}
		s.split = data.SplitInfo{Data: all.Fingerprint(), Rows: all.N}
	}
	s.test = test
	if c.ValOnTest {
		if test == nil {
			return nil, fmt.Errorf("-val-on-test: %s has no test split (give -test)", c.Data)
		}
		s.train, s.val = all, test
	} else if s.val != nil { // a folder's val/
		s.train = all
	} else if s.train, s.val, err = all.Split(c.Val, c.Seed); err != nil {
		return nil, fmt.Errorf("-val: %w", err)
	}
	if table {
		var fitted *data.Preprocess
		if ck != nil {
			fitted = ck.Preprocess
		}
		if err := s.preprocess(c, fitted); err != nil {
			return nil, err
		}
		warnScales(s.train, c)
	}
	if c.Normalize != "none" {
		t, err := data.FitTransform(s.train, c.Normalize)
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

// describe is one line about the splits for the run's first output.
func (s *splits) describe() string {
	n := func(d *data.Dataset) string {
		if d == nil {
			return "0"
		}
		return strconv.Itoa(d.N)
	}
	feat := fmt.Sprintf("%d features", s.train.Features)
	if s.shape != nil {
		feat = fmt.Sprintf("%s images (%s)", shapeString(s.shape), feat)
	}
	return fmt.Sprintf("%s: %s train / %s validation / %s test samples, %s", s.name, n(s.train), n(s.val), n(s.test), feat)
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

// warnNumericHeader says that the header line of the CSV at name is all
// numbers: read with -csv-header (the default), it names the columns and
// is not a data row, which loses a row of a file that has no header.
func warnNumericHeader(name string) {
	warnf("%s: the header line is all numbers, so it is read as column names and not as a data row; if the file has no header, give -csv-header=false", name)
}
