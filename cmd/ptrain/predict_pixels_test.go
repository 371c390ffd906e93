package main

import (
	be "encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A model of a folder of 16-bit images (float pixels in [0, 1],
// ptrain.pixels "unit") with a fitted -normalize predicts the same
// images alike whatever form predict gets them in: the 16-bit files, the
// same pixels as 8-bit files (v·257 = the 16-bit value), or as an IDX file
// of 8-bit values. predict gives 8-bit pixels to it as v/255 — the IDX
// path did not, and the 8-bit image path dropped the model's transform.
func TestPredictUnitPixelModelTakesIDXAndEightBitImagesAlike(t *testing.T) {
	dir := t.TempDir()
	const n = 20 // images a class
	idx := be.BigEndian.AppendUint32(nil, 0x803)
	for _, d := range []uint32{2 * n, 4, 4} {
		idx = be.BigEndian.AppendUint32(idx, d)
	}
	for c := range 2 {
		for i := range n {
			img8, img16 := image.NewGray(image.Rect(0, 0, 4, 4)), image.NewGray16(image.Rect(0, 0, 4, 4))
			for j := range 16 {
				v := uint8((i*97+j*131)%118 + 118*c)
				img8.SetGray(j%4, j/4, color.Gray{Y: v})
				img16.SetGray16(j%4, j/4, color.Gray16{Y: uint16(v) * 257})
				idx = append(idx, v)
			}
			name := filepath.Join(fmt.Sprint(c), fmt.Sprintf("%02d.png", i))
			writeImage(t, filepath.Join(dir, "imgs16", name), img16)
			writeImage(t, filepath.Join(dir, "imgs8", name), img8)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "imgs.idx"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, "train", "-data", "folder:imgs16", "-arch", "1x4x4-flatten-8:relu-2:softmax", "-normalize", "zscore",
		"-epochs", "10", "-batch", "8", "-lr", "0.1", "-test", "0", "-val", "0", "-quiet", "-out", "m.safetensors")
	// probs are predict's rows for input, without their first column (the
	// file or row index): the class and its probabilities.
	probs := func(input string) [][]string {
		t.Helper()
		out, errs, code := ptrain(t, dir, "predict", "-model", "m.safetensors", "-input", input)
		if code != 0 {
			t.Fatalf("predict -input %s: exit %d: %s", input, code, errs)
		}
		var rows [][]string
		for _, r := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			rows = append(rows, strings.Split(r, ",")[1:])
		}
		return rows
	}
	want := probs("imgs16")
	right := 0
	for i, r := range want {
		if r[0] == fmt.Sprint(i/n) {
			right++
		}
	}
	if len(want) != 2*n || right < 2*n*9/10 {
		t.Fatalf("the 16-bit images: %d of %d predicted as their folder's class", right, len(want))
	}
	for _, input := range []string{"imgs.idx", "imgs8"} {
		got := probs(input)
		if len(got) != len(want) {
			t.Fatalf("-input %s: %d rows, want %d", input, len(got), len(want))
		}
		for i := range got {
			for k := range got[i] {
				a, _ := strconv.ParseFloat(got[i][k], 64)
				b, _ := strconv.ParseFloat(want[i][k], 64)
				if k == 0 && got[i][k] != want[i][k] || math.Abs(a-b) > 1e-4 {
					t.Fatalf("-input %s, image %d: %q; the 16-bit file gives %q", input, i, got[i], want[i])
				}
			}
		}
	}
}
