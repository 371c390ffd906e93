package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/data"
)

// TestLinkedFolderImageIsNotAnOutput: a folder dataset whose split folder
// is a symbolic link (and one of whose class folders is) is read through
// the links, so its images are inputs that no output may replace. The
// check listed the folder with a walk that did not follow the links, and
// -plot over an image of the linked train/ wrote over it.
func TestLinkedFolderImageIsNotAnOutput(t *testing.T) {
	dir := t.TempDir()
	writeDigitFolder(t, filepath.Join(dir, "real"), 32) // ~55 images: creating files is most of its cost
	link := filepath.Join(dir, "linked")
	for _, p := range []string{"train", "test"} {
		if err := os.MkdirAll(filepath.Join(link, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// train/ linked whole; test/'s classes linked one by one.
	if err := os.Remove(filepath.Join(link, "train")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "real", "train"), filepath.Join(link, "train")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	classes, err := os.ReadDir(filepath.Join(dir, "real", "test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range classes {
		if err := os.Symlink(filepath.Join(dir, "real", "test", c.Name()), filepath.Join(link, "test", c.Name())); err != nil {
			t.Fatal(err)
		}
	}
	files, err := data.FolderFiles(link)
	if err != nil {
		t.Fatal(err)
	}
	real, err := data.FolderFiles(filepath.Join(dir, "real"))
	if err != nil || len(files) != len(real) || len(files) == 0 {
		t.Fatalf("FolderFiles: %d files through the links, %d in the folder (%v)", len(files), len(real), err)
	}
	for _, victim := range []string{
		filepath.Join(link, "train", filepath.Base(filepath.Dir(files[0])), filepath.Base(files[0])),
		files[len(files)-1], // through a linked class folder of test/
	} {
		before, err := os.ReadFile(victim)
		if err != nil {
			t.Fatal(err)
		}
		_, errs, code := ptrain(t, dir, "train", "-data", "folder:linked", "-arch", "1x8x8-flatten-10:softmax", "-epochs", "1", "-quiet", "-plot", victim)
		if code != 2 || !strings.Contains(errs, "is the same file as -data") {
			t.Errorf("train -plot %s over an image of a linked folder: exit %d, %q; want exit 2 naming -plot and -data", victim, code, errs)
		}
		if after, err := os.ReadFile(victim); err != nil || !bytes.Equal(before, after) {
			t.Errorf("%s changed (%v): the run replaced one of its input images", victim, err)
		}
	}
}
