package main

import (
	"bufio"
	"slices"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/data"
)

// scikit-learn's bundled tables (iris.csv, wine_data.csv, …) start with a
// metadata line, "150,4,setosa,versicolor,virginica": the sample count,
// the feature count and the class names, for labels 0, 1, 2 in the rows.
// -csv-skip 1 skips that line; the names in it are still the classes',
// when the rows' labels are exactly 0 … n−1 for n names (a line that
// names more classes than the rows have is not taken for one).

// sklearnClassNames returns the class names of path's first line if it is
// such a metadata line and -csv-skip skips it (skip ≥ 1); nil otherwise.
func sklearnClassNames(path string, skip int, comma rune) []string {
	if skip < 1 {
		return nil
	}
	rc, err := data.OpenMaybeGzip(path)
	if err != nil {
		return nil
	}
	defer rc.Close()
	line, err := bufio.NewReaderSize(rc, 4096).ReadString('\n')
	if err != nil && line == "" {
		return nil
	}
	fields := strings.Split(strings.TrimRight(line, "\r\n"), string(comma))
	if len(fields) < 4 {
		return nil
	}
	for _, f := range fields[:2] {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err != nil || n < 1 {
			return nil
		}
	}
	names := make([]string, 0, len(fields)-2)
	for _, f := range fields[2:] {
		f = strings.TrimSpace(f)
		if _, err := strconv.ParseFloat(f, 64); err != nil && f != "" && !slices.Contains(names, f) {
			names = append(names, f)
			continue
		}
		return nil
	}
	return names
}

// indexClasses are the labels 0 … n−1 as a table of scikit-learn's has
// them, as text.
func indexClasses(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}
