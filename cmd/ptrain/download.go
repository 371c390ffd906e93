package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ptrain/ptrain/data"
)

// -data mnist and -data fashion-mnist without a directory read
// $PTRAIN_DATA/KIND, else (Fashion-MNIST) Debian's package's directory if
// it is installed, else ptrain/KIND in the user's cache directory; with
// -download, the files missing there are fetched from the dataset's
// mirror first (data.Download: SHA-256 verified, written whole or not at
// all, an interrupted download continued by the next run). A clone of the
// repository then runs the README's commands as they are written.

// sources are the datasets -download fetches. Tests point them at a local
// server; nothing else changes them.
var sources = map[string]data.Source{"mnist": data.MNISTSource, "fashion-mnist": data.FashionMNISTSource}

// cacheDir is ptrain/KIND in the user's cache directory.
func cacheDir(kind string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("-data %s: no directory: give -data %s:DIR, or set %s (%v)", kind, kind, dataEnv, err)
	}
	return filepath.Join(cache, "ptrain", kind), nil
}

// missingImages lists the files of kind's four that dir has neither
// compressed nor uncompressed (LoadMNIST reads either).
func missingImages(kind, dir string) []string {
	var missing []string
	for _, f := range sources[kind].Files {
		_, errGz := os.Stat(filepath.Join(dir, f.Name))
		_, errRaw := os.Stat(filepath.Join(dir, strings.TrimSuffix(f.Name, ".gz")))
		if errGz != nil && errRaw != nil {
			missing = append(missing, f.Name)
		}
	}
	return missing
}

// hasImages reports whether dir holds all of kind's files.
func hasImages(kind, dir string) bool { return len(missingImages(kind, dir)) == 0 }

// provideImages makes sure dir holds kind's files: with download, it
// fetches those missing; without, a missing file is a usage error that
// says how to get them.
func provideImages(kind, dir string, download bool) error {
	missing := missingImages(kind, dir)
	if len(missing) == 0 {
		return nil
	}
	src := sources[kind]
	if !download {
		debian := ""
		if kind == "fashion-mnist" {
			debian = " (Debian: apt-get install dataset-fashion-mnist)"
			if hasImages(kind, debianFashionDir) {
				debian = fmt.Sprintf(" (Debian's package has them in %s)", debianFashionDir)
			}
		}
		lacks := fmt.Sprintf("%s has no %s", dir, strings.Join(missing, ", "))
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			lacks = fmt.Sprintf("the directory %s does not exist (it would hold %s)", dir, strings.Join(missing, ", "))
		}
		return errUsage{fmt.Errorf("-data %s: %s: give -download to fetch %s's files from %s into it (SHA-256 verified), give -data %s:DIR for a directory that holds them%s, or set %s to a directory holding %s/",
			kind, lacks, kind, src.URL, kind, debian, dataEnv, kind)}
	}
	if launchedAsOtherRank() {
		return fmt.Errorf("-data %s: %s lacks %s: under MPI, download first with one process (ptrain train -data %s -download -epochs 0)", kind, dir, strings.Join(missing, ", "), kind)
	}
	err := data.Download(context.Background(), nil, src, dir, func(url string, offset int64) {
		if offset > 0 {
			fmt.Fprintf(warnings, "ptrain: downloading %s into %s, continuing after %d bytes\n", url, dir, offset)
		} else {
			fmt.Fprintf(warnings, "ptrain: downloading %s into %s\n", url, dir)
		}
	})
	if err != nil {
		return fmt.Errorf("-download: %w (without network: give -data %s:DIR for a directory that holds the files, or set %s to a directory holding %s/)", err, kind, dataEnv, kind)
	}
	return nil
}
