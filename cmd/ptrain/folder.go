package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/schollz/progressbar/v3"
)

// folderFlags binds the flags of image data: -channels, -resize,
// -skip-bad for folder: data, and -augment for every image source.
func folderFlags(fs *flag.FlagSet, c *Config) {
	fs.IntVar(&c.Channels, "channels", c.Channels, "folder: images as 1 (gray, PIL's luma) or 3 (RGB) channels (default: 1 when every image is gray, else 3)")
	fs.StringVar(&c.Resize, "resize", c.Resize, "folder: resize every image to HxW pixels (bilinear, golang.org/x/image/draw: close to, not pixel-equal to, PIL's resize); without it every image must have one size")
	fs.BoolVar(&c.SkipBad, "skip-bad", c.SkipBad, "folder: skip image files that do not decode (or have another size), with a warning and a count, instead of stopping")
	fs.StringVar(&c.Augment, "augment", c.Augment, "augment training rows as they are filled, comma-separated: crop=P (torchvision's RandomCrop(size, padding=P)), flip (RandomHorizontalFlip), vflip (RandomVerticalFlip), erase (RandomErasing with its defaults: p 0.5, scale (0.02, 0.33), ratio (0.3, 3.3), value 0, after the pixels are scaled); needs an image input in -arch (CxHxW); the draws depend on -seed, the epoch and the sample only")
}

// folderIgnored lists the image flags given that the run's data does not
// use.
func (c *Config) folderIgnored() []string {
	if k, _, _ := strings.Cut(c.Data, ":"); k == "folder" {
		return nil
	}
	var fl []string
	for _, f := range []string{"channels", "resize", "skip-bad"} {
		if c.given[f] {
			fl = append(fl, "-"+f)
		}
	}
	if len(fl) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s ignored: these apply to folder: data, not %s", strings.Join(fl, ", "), c.Data)}
}

// validateImages checks -channels, -resize and -augment.
func (c *Config) validateImages() error {
	if c.Channels != 0 && c.Channels != 1 && c.Channels != 3 {
		return fmt.Errorf("-channels %d: want 1 or 3", c.Channels)
	}
	if _, _, err := parseResize(c.Resize); err != nil {
		return err
	}
	if c.Augment != "" {
		if _, err := data.ParseAugment(c.Augment); err != nil {
			return fmt.Errorf("-augment: %w", err)
		}
	}
	return nil
}

// parseResize reads -resize HxW; "" is 0, 0.
func parseResize(s string) (h, w int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	hs, ws, ok := strings.Cut(strings.ToLower(s), "x")
	h, err1 := strconv.Atoi(hs)
	w, err2 := strconv.Atoi(ws)
	if !ok || err1 != nil || err2 != nil || h < 1 || w < 1 || h > 1<<14 || w > 1<<14 {
		return 0, 0, fmt.Errorf("-resize %q: want HEIGHTxWIDTH in pixels, e.g. 28x28 (each at most %d)", s, 1<<14)
	}
	return h, w, nil
}

// load reads the run's data: a folder's splits as they are laid out, any
// other dataset as loadDataset reads it.
func (s *splits) load(c *Config, table bool) (all, test *data.Dataset, err error) {
	kind, dir, _ := strings.Cut(c.Data, ":")
	if kind != "folder" {
		return loadDataset(c, nil, table)
	}
	f, err := loadFolder(c, dir, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := checkTask(c, f.Train); err != nil {
		return nil, nil, err
	}
	if f.Val != nil && c.given["val"] && !c.ValOnTest {
		warnf("-val ignored: %s has a val/ folder, which is the validation split", dir)
	}
	if !c.ValOnTest {
		s.val = f.Val
	}
	s.shape = f.Shape[:]
	return f.Train, f.Test, nil
}

// loadFolder reads -data folder:DIR with the run's image flags (classes: a
// checkpoint's, or nil), with a progress bar on a terminal, and warns of
// what it skipped.
func loadFolder(c *Config, dir string, classes []string) (*data.Folder, error) {
	h, w, err := parseResize(c.Resize)
	if err != nil {
		return nil, errUsage{err}
	}
	opt := data.FolderOptions{Channels: c.Channels, Height: h, Width: w, SkipBad: c.SkipBad, Classes: classes}
	if !c.Quiet && !c.JSON && isTerminal(warnings) {
		var bar *progressbar.ProgressBar
		opt.Progress = func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(warnings), progressbar.OptionSetWidth(30),
					progressbar.OptionShowCount(), progressbar.OptionSetDescription("decoding "+dir), progressbar.OptionSetPredictTime(true),
					progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
			}
			_ = bar.Set(done)
			if done == total {
				_ = bar.Finish()
			}
		}
	}
	f, err := data.ReadFolder(dir, opt)
	if err != nil {
		if se := (*data.SizeError)(nil); errors.As(err, &se) {
			return nil, fmt.Errorf("-data %s: %w (give -resize HxW, or -skip-bad to leave it out)", c.Data, err)
		}
		if de := (*data.DecodeError)(nil); errors.As(err, &de) {
			return nil, fmt.Errorf("-data %s: %w (give -skip-bad to leave out the files that do not decode)", c.Data, err)
		}
		if classes == nil {
			return nil, fmt.Errorf("-data %s: %w", c.Data, err)
		}
		return nil, err
	}
	if f.Skipped > 0 {
		warnf("%s: skipped %d files that are not images by name (%s) or are hidden", dir, f.Skipped, strings.Join(data.ImageExtensions, " "))
	}
	for i, e := range f.Bad {
		if i == 10 {
			warnf("… and %d more", len(f.Bad)-10)
			break
		}
		warnf("-skip-bad: %v", e)
	}
	if len(f.Bad) > 0 {
		warnf("-skip-bad: left out %d image files that did not decode", len(f.Bad))
	}
	return f, nil
}

// checkImageShape checks a model's input against a folder's images: the
// spec must take them as C×H×W, or as a flat input of as many values.
func checkImageShape(spec model.Spec, s *splits) error {
	if s.shape == nil || spec.Shape == nil || slices.Equal(spec.Shape, s.shape) {
		return nil
	}
	return errUsage{fmt.Errorf("-arch %s: the model takes %s images, the images of %s are %s", spec, shapeString(spec.Shape), s.name, shapeString(s.shape))}
}

func shapeString(shape []int) string {
	var p []string
	for _, v := range shape {
		p = append(p, strconv.Itoa(v))
	}
	return strings.Join(p, "x")
}

// imageAugment is the run's -augment for a model of spec, or nil; a flat
// input is a usage error.
func imageAugment(c *Config, spec model.Spec) (*data.Augment, error) {
	if c.Augment == "" {
		return nil, nil
	}
	a, err := data.ParseAugment(c.Augment)
	if err != nil {
		return nil, errUsage{fmt.Errorf("-augment: %w", err)}
	}
	if err := a.SetShape(spec.Shape); err != nil {
		return nil, errUsage{fmt.Errorf("-augment: %w", err)}
	}
	a.Seed = c.Seed
	return &a, nil
}
