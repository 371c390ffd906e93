package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ImageExtensions are the file name endings, compared without case, of
// the files a folder of images is read from; other files are skipped.
var ImageExtensions = []string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// FolderOptions are the choices of ReadFolder and ReadImages.
type FolderOptions struct {
	// Channels is 1 or 3, or 0 for 1 when every image is gray and 3
	// otherwise. Gray is replicated into three channels (PIL's
	// convert('RGB')); colour is reduced to PIL's luma (convert('L')).
	Channels int
	// Height and Width, if not zero, are the size every image is resized
	// to (bilinear; see resizeImage). Zero: every image must have the
	// first's size.
	Height, Width int
	// SkipBad skips files that do not decode (or have another size),
	// listing them in Folder.Bad, instead of failing.
	SkipBad bool
	// Classes, if not nil, are the class names (a model's): the labels
	// index them, and a class folder not among them is an error. Nil:
	// the class folders found, sorted.
	Classes []string
	// Workers decode files at once; 0 means runtime.GOMAXPROCS(0).
	Workers int
	// MaxPixels caps width × height of any one file; 0 means
	// DefaultMaxPixels.
	MaxPixels int
	// Progress, if not nil, is called from the goroutine that called
	// ReadFolder about ten times a second while files are decoded, and
	// once at the end, with the files done and the total.
	Progress func(done, total int)
}

// Folder is an image folder as ReadFolder found it.
type Folder struct {
	// Train holds every sample, or with split folders train/'s; Val and
	// Test are val/'s and test/'s (nil without them). They share one
	// allocation.
	Train, Val, Test *Dataset
	Shape            [3]int // channels, height, width of every sample
	Skipped          int    // files that are not images by name (hidden ones included)
	Bad              []error
	// Files are the image files of Train, Val and Test, in that order and
	// in sample order.
	Files []string
}

// ReadFolder reads a folder of images laid out as torchvision's
// ImageFolder reads it: each sub-folder of dir is a class, the classes
// sorted by name, and every image file below a class folder (recursively,
// sorted by path) a sample of it. Names starting with a dot (hidden files
// and folders) are skipped, as are files whose names do not end in one of
// ImageExtensions; a class folder without image files is an error. If dir
// holds train/ and test/ folders (and optionally val/), those are the
// splits: each holds the class folders, the classes are train/'s, and a
// class folder missing from or extra in another split is an error.
//
// Pixels are as torchvision's ToTensor gives them, C×H×W: samples are
// kept as 8-bit values with a Scale of 1/255, or, if any image has 16
// bits per sample, as float64 values v/65535 (8-bit images in the same
// folder v/255). Alpha is dropped, colour not premultiplied.
//
// Files are decoded by opt.Workers goroutines at once. Each file's header
// is read first and a file is refused, with an error that names it,
// before its pixels are allocated if it declares more than opt.MaxPixels
// pixels or (without resizing) another size than the first image's.
func ReadFolder(dir string, opt FolderOptions) (*Folder, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a folder (want a folder of class folders of images)", dir)
	}
	sc, err := scanFolder(dir, opt.Classes)
	if err != nil {
		return nil, err
	}
	splits, classes, labels, counts := sc.splits, sc.classes, sc.labels, sc.counts
	f := &Folder{Files: sc.files, Skipped: sc.skipped}
	ds, kept, bad, err := loadImages(f.Files, opt)
	if err != nil {
		return nil, err
	}
	f.Bad = bad
	f.Shape = ds.shape
	d := &ds.Dataset
	d.Name, d.Classes, d.Task = dir, classes, Classification
	d.Labels = make([]int32, len(kept))
	files := make([]string, len(kept))
	for i, k := range kept {
		d.Labels[i], files[i] = labels[k], f.Files[k]
	}
	f.Files = files
	// The splits are views of consecutive rows: count the kept samples of
	// each.
	var ends []int
	lo := 0
	for _, n := range counts {
		lo += n
		ends = append(ends, sortSearch(kept, lo))
	}
	start := 0
	for k, sp := range splits {
		v := d.rows(filepath.Join(dir, sp), start, ends[k])
		if v.N == 0 {
			return nil, fmt.Errorf("%s: no image decoded", v.Name)
		}
		switch sp {
		case "", "train":
			f.Train = v
		case "val":
			f.Val = v
		case "test":
			f.Test = v
		}
		start = ends[k]
	}
	return f, nil
}

// folderScan is what ReadFolder finds in a folder before it decodes: the
// splits ("" alone, or train, [val,] test), the classes, every image file
// in sample order with its label, the number of files per split, and the
// files skipped.
type folderScan struct {
	splits, classes, files []string
	labels                 []int32
	counts                 []int
	skipped                int
}

// scanFolder lists dir as ReadFolder reads it (see there), with the
// classes fixed when fixed is not nil. It is the one walk of a folder
// dataset: ReadFolder's, and FolderFiles' for the CLI's check that no
// output overwrites an input.
func scanFolder(dir string, fixed []string) (folderScan, error) {
	var sc folderScan
	splits := folderSplits(dir)
	sc.splits = splits
	classes := fixed
	for k, sp := range splits {
		root := filepath.Join(dir, sp)
		found, err := classDirs(root)
		if err != nil {
			return sc, err
		}
		if len(found) == 0 {
			return sc, fmt.Errorf("%s: no class folders (want DIR/CLASS/IMAGE files, or DIR/train/CLASS/… and DIR/test/CLASS/…)", root)
		}
		if k == 0 && classes == nil {
			classes = found
		}
		if k > 0 && fixed == nil {
			for _, c := range classes {
				if !slices.Contains(found, c) {
					return sc, fmt.Errorf("%s: no folder for class %q, which %s has", root, c, filepath.Join(dir, splits[0]))
				}
			}
		}
		n := 0
		for _, c := range found {
			label := slices.Index(classes, c)
			if label < 0 {
				if fixed != nil {
					return sc, fmt.Errorf("%s: class %q is not one of the model's %d classes (%s)", filepath.Join(root, c), c, len(classes), strings.Join(classes, ", "))
				}
				return sc, fmt.Errorf("%s: class folder %q is not a class of %s", filepath.Join(root, c), c, filepath.Join(dir, splits[0]))
			}
			files, skipped, err := imageFiles(filepath.Join(root, c))
			if err != nil {
				return sc, err
			}
			if len(files) == 0 {
				return sc, fmt.Errorf("%s: class %q holds no image files (%s)", filepath.Join(root, c), c, strings.Join(ImageExtensions, ", "))
			}
			sc.skipped += skipped
			sc.files = append(sc.files, files...)
			for range files {
				sc.labels = append(sc.labels, int32(label))
			}
			n += len(files)
		}
		sc.counts = append(sc.counts, n)
	}
	sc.classes = classes
	return sc, nil
}

// folderSplits is the splits of a folder dataset: "" alone (dir holds the
// class folders), or train, [val,] test.
func folderSplits(dir string) []string {
	if !isDir(filepath.Join(dir, "train")) || !isDir(filepath.Join(dir, "test")) {
		return []string{""}
	}
	if isDir(filepath.Join(dir, "val")) {
		return []string{"train", "val", "test"}
	}
	return []string{"train", "test"}
}

// FolderFiles lists the image files that ReadFolder(dir, …) would read, in
// sample order, without decoding any: through split and class folders
// that are symbolic links too, as ReadFolder follows them. It lists every
// class folder of every split, as ReadFolder reads them with the classes
// of FolderOptions.Classes, under which a split may lack a class that
// train/ has: whenever ReadFolder reads dir, with or without Classes,
// FolderFiles lists its files.
func FolderFiles(dir string) ([]string, error) {
	var all []string // every split's class folders
	for _, sp := range folderSplits(dir) {
		found, err := classDirs(filepath.Join(dir, sp))
		if err != nil {
			return nil, err
		}
		for _, c := range found {
			if !slices.Contains(all, c) {
				all = append(all, c)
			}
		}
	}
	sc, err := scanFolder(dir, all)
	return sc.files, err
}

// sortSearch is the number of elements of the sorted s below x.
func sortSearch(s []int, x int) int {
	i, _ := slices.BinarySearch(s, x)
	return i
}

// ReadImages reads the image files named, as ReadFolder reads a folder's,
// into a dataset of features alone (no labels or classes: for prediction)
// and returns it with its sample shape and the files it holds: all of
// them, or with opt.SkipBad those that decoded (the others in bad).
func ReadImages(files []string, opt FolderOptions) (d *Dataset, shape [3]int, kept []string, bad []error, err error) {
	if err := opt.check(); err != nil {
		return nil, shape, nil, nil, err
	}
	if len(files) == 0 {
		return nil, shape, nil, nil, errors.New("no image files")
	}
	ds, idx, bad, err := loadImages(files, opt)
	if err != nil {
		return nil, shape, nil, nil, err
	}
	d = &ds.Dataset
	d.Name = "images"
	for _, k := range idx {
		kept = append(kept, files[k])
	}
	return d, ds.shape, kept, bad, nil
}

// ImageFiles lists the image files below dir as ReadFolder lists a class
// folder's: recursively, sorted by path, skipping hidden names and files
// whose names do not end in one of ImageExtensions (counted in skipped).
func ImageFiles(dir string) (files []string, skipped int, err error) {
	return imageFiles(dir)
}

func (o *FolderOptions) check() error {
	switch {
	case o.Channels != 0 && o.Channels != 1 && o.Channels != 3:
		return fmt.Errorf("channels %d: want 1 or 3 (or 0 to choose from the images)", o.Channels)
	case o.Height < 0 || o.Width < 0 || (o.Height == 0) != (o.Width == 0):
		return fmt.Errorf("resize to %d×%d: want a positive height and width, or neither", o.Height, o.Width)
	case o.MaxPixels < 0 || o.Workers < 0:
		return fmt.Errorf("max pixels %d, workers %d: must be ≥ 0", o.MaxPixels, o.Workers)
	case o.Height > 0 && o.Width > o.maxPixels()/o.Height:
		return fmt.Errorf("resize to %d×%d: more than the %d pixels allowed", o.Height, o.Width, o.maxPixels())
	}
	return nil
}

func (o *FolderOptions) maxPixels() int {
	if o.MaxPixels > 0 {
		return o.MaxPixels
	}
	return DefaultMaxPixels
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// classDirs lists the folders in dir (symbolic links to folders too),
// sorted, without hidden ones.
func classDirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if e.IsDir() || (e.Type()&fs.ModeSymlink != 0 && isDir(filepath.Join(dir, e.Name()))) {
			out = append(out, e.Name())
		}
	}
	return out, nil // os.ReadDir sorts by name
}

// imageFiles walks dir for ReadFolder and ImageFiles. A dir that is a
// symbolic link to a folder (a class folder linked in) is walked through
// the link, as torchvision's os.walk(followlinks=True) does; links below
// it are not followed.
func imageFiles(dir string) (files []string, skipped int, err error) {
	root := dir
	if fi, lerr := os.Lstat(dir); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 && isDir(dir) {
		root = dir + string(filepath.Separator) // Lstat of "link/" resolves the link
	}
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		hidden := p != root && strings.HasPrefix(e.Name(), ".")
		switch {
		case e.IsDir() && hidden:
			return filepath.SkipDir
		case e.IsDir():
		case hidden || !slices.Contains(ImageExtensions, strings.ToLower(filepath.Ext(p))):
			skipped++
		default:
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	return files, skipped, err
}
