package main

import (
	be "encoding/binary"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPredictImagesEqualsIDX: 300 images predicted from an IDX file and
// from the same images written as PNG files (a folder, one file, and a
// list on stdin) give the same probabilities, row for row.
func TestPredictImagesEqualsIDX(t *testing.T) {
	dir := t.TempDir()
	const n, side = 300, 28
	idx := be.BigEndian.AppendUint32(nil, 0x00000803)
	for _, d := range []uint32{n, side, side} {
		idx = be.BigEndian.AppendUint32(idx, d)
	}
	var list []string
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, side, side))
		for j := range img.Pix {
			img.Pix[j] = uint8((i*31 + j*j*7 + (j/side)*i) % 256)
		}
		idx = append(idx, img.Pix...)
		if i < 30 { // any model of these images will do: train on a few
			writeImage(t, filepath.Join(dir, "train", fmt.Sprint(i%3), fmt.Sprintf("%03d.png", i)), img)
		}
		name := filepath.Join("all", fmt.Sprintf("%03d.png", i))
		writeImage(t, filepath.Join(dir, name), img)
		list = append(list, name)
	}
	if err := os.WriteFile(filepath.Join(dir, "images.idx"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, "train", "-data", "folder:train", "-arch", "1x28x28-conv(2,3):relu-maxpool(2)-flatten-3:softmax", "-epochs", "1", "-test", "0", "-val", "0", "-quiet", "-out", "m.safetensors")
	fromIDX := strings.Split(strings.TrimSpace(mustRun(t, dir, "predict", "-model", "m.safetensors", "-input", "images.idx")), "\n")
	fromPNG := strings.Split(strings.TrimSpace(mustRun(t, dir, "predict", "-model", "m.safetensors", "-input", "all")), "\n")
	stdout, errs, code := run2(t, dir, nil, strings.Join(list, "\n")+"\n", "predict", "-model", "m.safetensors", "-input", "-")
	if code != 0 {
		t.Fatalf("predict -input - with a list of images: exit %d: %s", code, errs)
	}
	fromList := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(fromIDX) != n+1 || len(fromPNG) != n+1 || len(fromList) != n+1 {
		t.Fatalf("%d, %d and %d lines, want %d", len(fromIDX), len(fromPNG), len(fromList), n+1)
	}
	if !strings.HasPrefix(fromIDX[0], "row,class,p_0,p_1,p_2") || !strings.HasPrefix(fromPNG[0], "file,class,p_0,p_1,p_2") {
		t.Fatalf("headers %q and %q", fromIDX[0], fromPNG[0])
	}
	for i := 1; i <= n; i++ {
		_, a, _ := strings.Cut(fromIDX[i], ",")
		file, b, _ := strings.Cut(fromPNG[i], ",")
		_, c, _ := strings.Cut(fromList[i], ",")
		if a != b || a != c || file != list[i-1] {
			t.Fatalf("image %d: IDX %q, PNG %q, list %q (file %s)", i-1, a, b, c, file)
		}
	}
	one := mustRun(t, dir, "predict", "-model", "m.safetensors", "-input", list[7])
	if lines := strings.Split(strings.TrimSpace(one), "\n"); len(lines) != 2 || lines[1] != fromPNG[8] {
		t.Errorf("one file: %q, want %q", lines, fromPNG[8])
	}
	// An image of another size is an error naming it and both shapes.
	writeImage(t, filepath.Join(dir, "big.png"), image.NewGray(image.Rect(0, 0, 30, 28)))
	_, errs, code = ptrain(t, dir, "predict", "-model", "m.safetensors", "-input", "big.png")
	if code == 0 || !strings.Contains(errs, "big.png: 1x28x30 images, the model takes 1x28x28") {
		t.Errorf("an image of another size: exit %d, %s", code, errs)
	}
	_, errs, code = ptrain(t, dir, "predict", "-model", "m.safetensors", "-input", "nosuch.png")
	if code == 0 || !strings.Contains(errs, "nosuch.png") {
		t.Errorf("a missing image: exit %d, %s", code, errs)
	}
}
