package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ptrain/ptrain/data"
)

// An output must never be one of the command's inputs: ptrain writes whole
// files and renames them into place, so `-out data.csv` or `-output
// rows.csv` with the same rows as -input would replace the data with the
// result. Files are compared as the system sees them, by device and inode
// after following symbolic links (os.SameFile), so that a second name, a
// relative path or a hard link for the same file is caught too.

// namedFile is a file a command reads or writes, with the flag that names it.
type namedFile struct {
	flag, path string
}

// checkNotInput refuses an output that is the same file as one of the
// inputs, naming both flags. An output that does not exist yet cannot be
// an input; an input that cannot be stat'ed is not compared (its own
// reader reports it).
func checkNotInput(out namedFile, inputs []namedFile) error {
	ofi, err := os.Stat(out.path)
	if err != nil {
		return nil
	}
	for _, in := range inputs {
		if in.path == "" || in.path == "-" {
			continue
		}
		ifi, err := os.Stat(in.path)
		if err != nil {
			continue
		}
		if os.SameFile(ofi, ifi) {
			same := ""
			if filepath.Clean(in.path) != filepath.Clean(out.path) {
				same = fmt.Sprintf(" (%s)", in.path)
			}
			return errUsage{fmt.Errorf("%s %s is the same file as %s%s, an input: writing it would replace the input; write the output elsewhere",
				out.flag, out.path, in.flag, same)}
		}
	}
	return nil
}

// dataFiles are the files a -data spec reads: the CSV, every file in an
// image dataset's directory (LoadMNIST picks four of them, with or
// without .gz), or every image below a folder: (as data.ReadFolder lists
// them). Other kinds read no file.
func dataFiles(spec string) []namedFile {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "csv":
		return []namedFile{{"-data", arg}}
	case "mnist", "fashion-mnist":
		dir, err := imageDir(kind, arg)
		if err != nil {
			return nil
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil
		}
		var files []namedFile
		for _, e := range entries {
			if !e.IsDir() {
				files = append(files, namedFile{"-data", filepath.Join(dir, e.Name())})
			}
		}
		return files
	case "folder":
		images, err := data.FolderFiles(arg) // as ReadFolder walks it, through linked split and class folders
		if err != nil {
			return nil // the loader reports it
		}
		files := make([]namedFile, len(images))
		for i, f := range images {
			files[i] = namedFile{"-data", f}
		}
		return files
	}
	return nil
}

// trainInputs are the files a training run reads besides its checkpoint
// to resume: the data, the -init weights and the -config file. A resumed
// run writes its own checkpoint (-out is -resume), so -resume is an input
// only for the other outputs (see claimOutputs).
func trainInputs(c *Config) []namedFile {
	in := dataFiles(c.Data)
	if c.Init != "" {
		in = append(in, namedFile{"-init", c.Init})
	}
	if c.configPath != "" {
		in = append(in, namedFile{"-config", c.configPath})
	}
	return in
}
