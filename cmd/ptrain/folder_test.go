package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ptrain/ptrain/data"
)

// writeDigitFolder writes the embedded digits as DIR/train/CLASS/*.png and
// DIR/test/CLASS/*.png, every keep-th sample of each split.
func writeDigitFolder(t *testing.T, dir string, keep int) {
	t.Helper()
	if err := writeDigits(dir, keep); err != nil {
		t.Fatal(err)
	}
}

func writeDigits(dir string, keep int) error {
	d, err := data.Digits()
	if err != nil {
		return err
	}
	train, test, err := d.Split(0.2, 1)
	if err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		d    *data.Dataset
	}{{"train", train}, {"test", test}} {
		for i := 0; i < s.d.N; i += keep {
			img := image.NewGray(image.Rect(0, 0, 8, 8))
			for j := range img.Pix {
				img.Pix[j] = uint8(min(255, s.d.Value(i, j)*255+0.5))
			}
			if err := savePNG(filepath.Join(dir, s.name, s.d.Classes[s.d.Labels[i]], fmt.Sprintf("%04d.png", i)), img); err != nil {
				return err
			}
		}
	}
	return nil
}

// digitFolder is a folder of the embedded digits, every 4th sample, as
// writeDigits writes it: written once per test binary (creating its ~450
// files costs more CPU than the runs that read them) and read only.
var digitFolder = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ptrain-digits")
	if err != nil {
		return "", err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	return dir, writeDigits(dir, 4)
})

// linkDigitFolder makes dir a digit folder: dir/train and dir/test are
// symbolic links to digitFolder's (which the folder reader follows, as
// users' links), so a test names it by its own relative path.
func linkDigitFolder(t *testing.T, dir string) {
	t.Helper()
	shared, err := digitFolder()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"train", "test"} {
		if err := os.Symlink(filepath.Join(shared, split), filepath.Join(dir, split)); err != nil {
			t.Fatal(err)
		}
	}
}

func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := savePNG(path, img); err != nil {
		t.Fatal(err)
	}
}

// pngEncoder reuses its compressor between images (a fresh one per
// image, as png.Encode makes, was most of the cost of writing the digit
// folders); the files are png.Encode's, byte for byte.
var pngEncoder = png.Encoder{BufferPool: &pngBuffers{}}

type pngBuffers struct{ p sync.Pool }

func (b *pngBuffers) Get() *png.EncoderBuffer {
	e, _ := b.p.Get().(*png.EncoderBuffer)
	return e
}

func (b *pngBuffers) Put(e *png.EncoderBuffer) { b.p.Put(e) }

func savePNG(path string, img image.Image) error {
	var b bytes.Buffer
	if err := pngEncoder.Encode(&b, img); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

const folderCNN = "1x8x8-conv(4,3,pad=1):relu-maxpool(2)-flatten-10:softmax"

// TestFolderTrainResumeEval: a folder with split folders trains with
// augmentation; a run resumed from its checkpoint ends bit for bit where
// the uninterrupted one does; eval scores test/ and names the classes.
func TestFolderTrainResumeEval(t *testing.T) {
	dir := t.TempDir()
	linkDigitFolder(t, filepath.Join(dir, "imgs"))
	common := []string{"-data", "folder:imgs", "-arch", folderCNN, "-augment", "crop=1,flip", "-workers", "2", "-lr", "0.01", "-quiet"}
	mustRun(t, dir, append([]string{"train", "-epochs", "2", "-out", "whole.safetensors"}, common...)...)
	mustRun(t, dir, append([]string{"train", "-epochs", "1", "-out", "half.safetensors"}, common...)...)
	mustRun(t, dir, "train", "-resume", "half.safetensors", "-epochs", "2", "-out", "resumed.safetensors", "-quiet")
	a, b := tensors(t, filepath.Join(dir, "whole.safetensors")), tensors(t, filepath.Join(dir, "resumed.safetensors"))
	for _, name := range a.Names() {
		if !bytes.Equal(a.Tensor(name).Data, b.Tensor(name).Data) {
			t.Fatalf("%s differs between the resumed and the uninterrupted run", name)
		}
	}
	_, errs, code := ptrain(t, dir, "train", "-resume", "half.safetensors", "-augment", "crop=2")
	if code != 2 || !strings.Contains(errs, "-augment cannot change when resuming") {
		t.Errorf("resume with another -augment: exit %d, %s", code, errs)
	}
	out := mustRun(t, dir, "eval", "-model", "whole.safetensors")
	if !strings.Contains(out, filepath.Join("imgs", "test")+": 90 samples") || !strings.Contains(out, "accuracy") {
		t.Errorf("eval:\n%s", out)
	}
	// A folder with a class the model does not know.
	writeImage(t, filepath.Join(dir, "other", "7", "a.png"), image.NewGray(image.Rect(0, 0, 8, 8)))
	writeImage(t, filepath.Join(dir, "other", "seven", "a.png"), image.NewGray(image.Rect(0, 0, 8, 8)))
	_, errs, code = ptrain(t, dir, "eval", "-model", "whole.safetensors", "-data", "folder:other")
	if code == 0 || !strings.Contains(errs, `class "seven" is not one of the model's 10 classes`) {
		t.Errorf("eval of an unknown class: exit %d, %s", code, errs)
	}
}

func TestFolderBadInput(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "mixed", "a", "1.png"), image.NewGray(image.Rect(0, 0, 8, 8)))
	writeImage(t, filepath.Join(dir, "mixed", "b", "1.png"), image.NewGray(image.Rect(0, 0, 9, 8)))
	for _, tc := range []struct {
		args  []string
		code  int
		wants []string
	}{
		{[]string{"-augment", "flip"}, 2, []string{"-augment: augmentation flip needs images", "1x28x28"}},
		{[]string{"-augment", "rotate"}, 2, []string{`unknown operation "rotate"`}},
		{[]string{"-augment", "crop=0"}, 2, []string{"crop=0"}},
		{[]string{"-resize", "12"}, 2, []string{`-resize "12": want HEIGHTxWIDTH`}},
		{[]string{"-channels", "2"}, 2, []string{"-channels 2: want 1 or 3"}},
		{[]string{"-data", "folder:"}, 2, []string{"no folder named"}},
		{[]string{"-data", "folder:nosuch"}, 1, []string{"nosuch"}},
		{[]string{"-data", "folder:mixed"}, 1, []string{filepath.Join("mixed", "b", "1.png") + " is 9×8 pixels", "8×8", "-resize HxW"}},
		{[]string{"-data", "folder:mixed", "-resize", "8x8", "-test", "0", "-val", "0", "-arch", "1x4x16-flatten-2:softmax"}, 2, []string{"the model takes 1x4x16 images", "are 1x8x8"}},
	} {
		_, errs, code := ptrain(t, dir, append([]string{"train", "-epochs", "1", "-out", "x.safetensors"}, tc.args...)...)
		for _, w := range tc.wants {
			if code != tc.code || !strings.Contains(errs, w) {
				t.Errorf("train %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, errs, tc.code, w)
			}
		}
	}
	// -skip-bad leaves out what does not decode (the 9×8 image too), with
	// warnings and counts, as for files that are not images.
	writeFiles(t, filepath.Join(dir, "mixed", "a"), map[string]string{"2.png": "not a PNG", "notes.txt": "x", ".DS_Store": "x"})
	_, errs, code := ptrain(t, dir, "train", "-data", "folder:mixed", "-skip-bad", "-epochs", "1", "-test", "0", "-val", "0", "-out", "x.safetensors")
	for _, w := range []string{"skipped 2 files that are not images by name", filepath.Join("a", "2.png") + ": ", filepath.Join("b", "1.png") + " is 9×8", "-skip-bad: left out 2 image files"} {
		if code != 0 || !strings.Contains(errs, w) {
			t.Errorf("train -skip-bad: exit %d, stderr %q; want %q", code, errs, w)
		}
	}
	if err := os.Remove(filepath.Join(dir, "mixed", "a", "2.png")); err != nil {
		t.Fatal(err)
	}
	// -resize makes them one; the images are 1x8x8, which the first line
	// says with what -arch to write.
	out, errs, code := ptrain(t, dir, "train", "-data", "folder:mixed", "-resize", "8x8", "-epochs", "1", "-test", "0", "-val", "0", "-out", "x.safetensors")
	if code != 0 || !strings.Contains(out+errs, "the images are 1x8x8: the default model is an MLP on their 64 values; for a CNN give -arch 1x8x8-conv") {
		t.Errorf("train with -resize: exit %d, %s%s", code, out, errs)
	}
}

// TestFolderRefusesAnotherTask: a folder of class subfolders is a
// classification dataset, so -task regression is a usage error, as it is
// for digits, not an option silently ignored.
func TestFolderRefusesAnotherTask(t *testing.T) {
	dir := t.TempDir()
	linkDigitFolder(t, filepath.Join(dir, "imgs"))
	_, errs, code := ptrain(t, dir, "train", "-data", "folder:imgs", "-arch", folderCNN, "-epochs", "1", "-quiet", "-task", "regression")
	if code != 2 || !strings.Contains(errs, "-task regression: folder:imgs is a classification dataset") {
		t.Errorf("train -task regression on a folder: exit %d, %q; want exit 2 and the -task error", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "ptrain.safetensors")); err == nil {
		t.Error("a refused run wrote a checkpoint")
	}
}

// TestFolderImageIsNotAnOutput: the images of a folder: dataset are the
// run's inputs, so an output naming one of them is refused, as one naming
// a CSV or MNIST file is, and the image is left as it was.
func TestFolderImageIsNotAnOutput(t *testing.T) {
	dir := t.TempDir()
	// Its own folder, of real directories: a run here may write over an
	// image, which must not be the one other tests share.
	writeDigitFolder(t, filepath.Join(dir, "imgs"), 8) // ~225 images: creating files is most of its cost
	images, _, err := data.ImageFiles(filepath.Join(dir, "imgs"))
	if err != nil || len(images) == 0 {
		t.Fatalf("%d images, %v", len(images), err)
	}
	victim := images[0]
	before, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	_, errs, code := ptrain(t, dir, "train", "-data", "folder:imgs", "-arch", folderCNN, "-epochs", "1", "-quiet", "-plot", victim)
	if code != 2 || !strings.Contains(errs, "-plot "+victim+" is the same file as -data") {
		t.Errorf("train -plot over one of its images: exit %d, %q; want exit 2 naming -plot and -data", code, errs)
	}
	if after, err := os.ReadFile(victim); err != nil || !bytes.Equal(before, after) {
		t.Errorf("%s changed (%v): the run replaced one of its input images", victim, err)
	}
	// predict's -output and the images of its -input folder, likewise.
	mustRun(t, dir, "train", "-data", "folder:imgs", "-arch", folderCNN, "-epochs", "1", "-quiet", "-out", "m.safetensors")
	_, errs, code = ptrain(t, dir, "predict", "-model", "m.safetensors", "-input", "imgs", "-output", victim)
	if code != 2 || !strings.Contains(errs, "-output "+victim+" is the same file as -input") {
		t.Errorf("predict -output over one of its images: exit %d, %q; want exit 2 naming -output", code, errs)
	}
	if after, err := os.ReadFile(victim); err != nil || !bytes.Equal(before, after) {
		t.Errorf("%s changed (%v): predict replaced one of its input images", victim, err)
	}
	// predict reads every image below a folder of its own, class folders
	// or not (data.ImageFiles): a flat one's images are inputs too. The
	// check listed the folder as a dataset of class folders, found none,
	// and let -output replace one.
	flat := filepath.Join(dir, "flat")
	if err := os.Mkdir(flat, 0o755); err != nil {
		t.Fatal(err)
	}
	flatVictim := filepath.Join(flat, filepath.Base(victim))
	for _, f := range []string{flatVictim, filepath.Join(flat, "second"+filepath.Ext(victim))} {
		if err := os.WriteFile(f, before, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, errs, code = ptrain(t, dir, "predict", "-model", "m.safetensors", "-input", "flat", "-output", flatVictim)
	if code != 2 || !strings.Contains(errs, "-output "+flatVictim+" is the same file as -input") {
		t.Errorf("predict -output over an image of a folder without class folders: exit %d, %q; want exit 2 naming -output", code, errs)
	}
	if after, err := os.ReadFile(flatVictim); err != nil || !bytes.Equal(before, after) {
		t.Errorf("%s changed (%v): predict replaced one of its input images", flatVictim, err)
	}
}

// TestPredictSixteenBitFolderWithNormalize: a model of a folder of 16-bit
// images (float pixels in [0, 1]) with a fitted -normalize takes the
// same images in predict as in training, not in 8-bit units (255 times
// larger): no warning that the inputs lie outside the training range, and
// the classes it learnt.
func TestPredictSixteenBitFolderWithNormalize(t *testing.T) {
	dir := t.TempDir()
	for c := range 2 {
		for i := range 30 {
			img := image.NewGray16(image.Rect(0, 0, 4, 4))
			for j := range 16 {
				img.SetGray16(j%4, j/4, color.Gray16{Y: uint16((i*977+j*1311)%30000 + 30000*c)})
			}
			writeImage(t, filepath.Join(dir, "imgs", fmt.Sprint(c), fmt.Sprintf("%02d.png", i)), img)
		}
	}
	mustRun(t, dir, "train", "-data", "folder:imgs", "-arch", "1x4x4-flatten-8:relu-2:softmax", "-normalize", "zscore",
		"-epochs", "30", "-batch", "8", "-lr", "0.1", "-test", "0", "-val", "0", "-quiet", "-out", "m.safetensors")
	stdout, errs, code := ptrain(t, dir, "predict", "-model", "m.safetensors", "-input", "imgs")
	if code != 0 || strings.Contains(errs, "is the data scaled") {
		t.Fatalf("predict: exit %d: %s", code, errs)
	}
	right, rows := 0, strings.Split(strings.TrimSpace(stdout), "\n")[1:]
	for _, r := range rows {
		f := strings.Split(r, ",")
		if filepath.Base(filepath.Dir(f[0])) == f[1] {
			right++
		}
	}
	if len(rows) != 60 || right < 54 {
		t.Errorf("%d of %d images predicted as their folder's class", right, len(rows))
	}
}

// TestEvalFolderOfTheOtherBitDepth: eval of a model trained on 8-bit
// images scores the same images saved as 16-bit (v·257) as it scores
// the 8-bit ones, as predict reads them: in the units the run trained on.
func TestEvalFolderOfTheOtherBitDepth(t *testing.T) {
	dir := t.TempDir()
	linkDigitFolder(t, filepath.Join(dir, "imgs"))
	// eval scores test/: only it is written again as 16-bit images.
	shared, _ := digitFolder()
	images, _, err := data.ImageFiles(filepath.Join(shared, "test"))
	if err != nil || len(images) == 0 {
		t.Fatalf("%d images, %v", len(images), err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "imgs16"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "imgs", "train"), filepath.Join(dir, "imgs16", "train")); err != nil {
		t.Fatal(err)
	}
	for _, f := range images {
		d, _, _, _, err := data.ReadImages([]string{f}, data.FolderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		img := image.NewGray16(image.Rect(0, 0, 8, 8))
		for j, v := range d.U8 {
			img.SetGray16(j%8, j/8, color.Gray16{Y: uint16(v) * 257})
		}
		rel, _ := filepath.Rel(shared, f)
		writeImage(t, filepath.Join(dir, "imgs16", rel), img)
	}
	mustRun(t, dir, "train", "-data", "folder:imgs", "-arch", folderCNN, "-epochs", "6", "-lr", "0.02", "-quiet", "-out", "m.safetensors")
	eight := mustRun(t, dir, "eval", "-model", "m.safetensors", "-data", "folder:imgs", "-json")
	sixteen := mustRun(t, dir, "eval", "-model", "m.safetensors", "-data", "folder:imgs16", "-json")
	acc := func(out string) string {
		_, rest, _ := strings.Cut(out, `"accuracy":`)
		v, _, _ := strings.Cut(rest, ",")
		return v
	}
	if a, b := acc(eight), acc(sixteen); a < "0.5" || a != b { // both 0.1 would not tell
		t.Errorf("accuracy %s on the 8-bit images, %s on the same as 16-bit", a, b)
	}
}
