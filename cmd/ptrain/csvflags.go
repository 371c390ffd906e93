package main

import (
	"flag"
)

// csvFlags are the CSV reading flags that train, eval and predict share.
type csvFlags struct {
	label  string
	header bool
	skip   int
	delim  string
}

// bind declares the flags on fs, with what as the help's subject.
func (o *csvFlags) bind(fs *flag.FlagSet, labelHelp string) {
	fs.StringVar(&o.label, "label", o.label, labelHelp)
	fs.BoolVar(&o.header, "csv-header", o.header, "the CSV's first line (after -csv-skip) names the columns")
	fs.IntVar(&o.skip, "csv-skip", o.skip, "CSV lines to skip first (scikit-learn's tables have 1 metadata line)")
	fs.StringVar(&o.delim, "csv-delim", o.delim, "CSV field delimiter (one character; \\t for tab)")
}

// given reports which flags of fs were set on the command line.
func given(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
