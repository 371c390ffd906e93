package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MNISTURL is a mirror of the four MNIST files (PyTorch's; the original
// site is yann.lecun.com/exdb/mnist).
const MNISTURL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

// FashionMNISTDir is where Debian's dataset-fashion-mnist package installs
// the files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// FashionClasses are Fashion-MNIST's class names.
var FashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

var digitNames = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// LoadIDXPair reads an image file and its label file into a classification
// dataset with pixels scaled to [0, 1] (Scale 1/255). It checks that both
// files hold the same number of samples and that every label is a class.
func LoadIDXPair(images, labels, name string, classes []string) (*Dataset, error) {
	img, err := ReadIDXFile(images)
	if err != nil {
		return nil, err
	}
	if len(img.Dims) < 2 {
		return nil, &FormatError{File: images, Msg: fmt.Sprintf("%d dimensions, want an image file (count, rows[, cols])", len(img.Dims))}
	}
	lab, err := ReadIDXFile(labels)
	if err != nil {
		return nil, err
	}
	if len(lab.Dims) != 1 {
		return nil, &FormatError{File: labels, Msg: fmt.Sprintf("%d dimensions, want a label file (count)", len(lab.Dims))}
	}
	n := img.Dims[0]
	if lab.Dims[0] != n {
		return nil, fmt.Errorf("%s holds %d images but %s holds %d labels", images, n, labels, lab.Dims[0])
	}
	d := &Dataset{Name: name, N: n, Features: len(img.Data) / n, U8: img.Data, Classes: classes, Labels: make([]int32, n)}
	for i, l := range lab.Data {
		if int(l) >= len(classes) {
			return nil, &FormatError{File: labels, Where: fmt.Sprintf("byte %d", 8+i), Msg: fmt.Sprintf("label %d of sample %d is not a class (want 0 to %d)", l, i, len(classes)-1)}
		}
		d.Labels[i] = int32(l)
	}
	d.Scale = make([]float64, d.Features)
	for j := range d.Scale {
		d.Scale[j] = 1.0 / 255
	}
	return d, nil
}

// LoadMNIST reads the four standard files of MNIST or Fashion-MNIST
// (train-images-idx3-ubyte and friends, each optionally .gz) from dir.
// fashion selects Fashion-MNIST's class names.
func LoadMNIST(dir string, fashion bool) (train, test *Dataset, err error) {
	name, classes, hint := "mnist", digitNames, "download the four .gz files from "+MNISTURL
	if fashion {
		name, classes, hint = "fashion-mnist", FashionClasses, "install them with: apt-get install dataset-fashion-mnist"
	}
	find := func(base string) (string, error) {
		for _, p := range []string{base + ".gz", base} {
			path := filepath.Join(dir, p)
			if _, err := os.Stat(path); err == nil {
				return path, nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		return "", fmt.Errorf("%s: no %s[.gz] in %s (%s)", name, base, dir, hint)
	}
	var paths [4]string
	for i, base := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		if paths[i], err = find(base); err != nil {
			return nil, nil, err
		}
	}
	if train, err = LoadIDXPair(paths[0], paths[1], name+"/train", classes); err != nil {
		return nil, nil, err
	}
	if test, err = LoadIDXPair(paths[2], paths[3], name+"/test", classes); err != nil {
		return nil, nil, err
	}
	if train.Features != test.Features {
		return nil, nil, fmt.Errorf("%s: training images have %d pixels, test images %d", name, train.Features, test.Features)
	}
	return train, test, nil
}
