package data

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// augmentCase is one entry of testdata/images/augment.json (make.py):
// torchvision's pad+crop, hflip and vflip of a raw image.
type augmentCase struct {
	Shape       [3]int
	Crop        int
	DY, DX      int
	Flip, VFlip bool
	Erase       []int // i, j, h, w of F.erase, if given
	In, Out     []uint8
}

func TestAugmentMatchesTorchvision(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "images", "augment.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []augmentCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("%d cases in augment.json", len(cases))
	}
	for k, tc := range cases {
		c, h, w := tc.Shape[0], tc.Shape[1], tc.Shape[2]
		d := &Dataset{Name: "t", N: 1, Features: c * h * w, U8: tc.In, Labels: []int32{0}, Classes: []string{"a"}}
		a := &Augment{C: c, H: h, W: w, Crop: tc.Crop, Flip: true, VFlip: true}
		got := make([]float64, d.Features)
		dr := Draw{DY: tc.DY, DX: tc.DX, Flip: tc.Flip, VFlip: tc.VFlip}
		if tc.Erase != nil {
			dr.EY, dr.EX, dr.EH, dr.EW = tc.Erase[0], tc.Erase[1], tc.Erase[2], tc.Erase[3]
		}
		fillDraw(d, 0, a, dr, got)
		for j, v := range got {
			if v != float64(tc.Out[j]) {
				t.Fatalf("case %d (%+v): value %d is %g, torchvision's %d", k, tc.Shape, j, v, tc.Out[j])
			}
		}
	}
}

// TestAugmentTransformAfter checks that the dataset's transform applies to
// the augmented raw values, padding included (a raw 0), with FillRow's
// bits for the identity draw.
func TestAugmentTransformAfter(t *testing.T) {
	d := &Dataset{Name: "t", N: 2, Features: 4, U8: []uint8{1, 2, 3, 4, 5, 6, 7, 8},
		Scale: []float64{1.0 / 255, 1.0 / 255, 0.5, 0.5}, Shift: []float64{-1, -2, -3, -4}, Labels: []int32{0, 0}, Classes: []string{"a"}}
	a := &Augment{C: 1, H: 2, W: 2, Crop: 1, Flip: true}
	got := make([]float32, 4)
	fillDraw(d, 1, a, Draw{DY: 1, DX: 1, Flip: true}, got)
	want := []float32{float32(6.0/255 - 1), float32(5.0/255 - 2), float32(8*0.5 - 3), float32(7*0.5 - 4)}
	if !slices.Equal(got, want) {
		t.Errorf("flip: %v, want %v", got, want)
	}
	fillDraw(d, 1, a, Draw{DY: 0, DX: 0}, got) // shifted down-right by one: row 0 and column 0 are padding
	want = []float32{float32(0.0/255 - 1), float32(0.0/255 - 2), float32(0*0.5 - 3), float32(5*0.5 - 4)}
	if !slices.Equal(got, want) {
		t.Errorf("crop: %v, want %v", got, want)
	}
	ref := make([]float32, 4)
	FillRow(d, 1, ref)
	fillDraw(d, 1, a, Draw{DY: 1, DX: 1}, got)
	if !slices.Equal(got, ref) {
		t.Errorf("identity draw: %v, FillRow %v", got, ref)
	}
}

// TestAugmentDraws checks that the draws depend on (seed, epoch, sample)
// and cover every offset and both flips about equally.
func TestAugmentDraws(t *testing.T) {
	a := &Augment{C: 1, H: 8, W: 8, Crop: 2, Flip: true, VFlip: true, Seed: 7}
	const n = 20000
	var dy, dx [5]int
	flips, vflips := 0, 0
	for i := range n {
		d := a.Draw(3, i)
		if d != a.Draw(3, i) {
			t.Fatal("Draw is not a function of its arguments")
		}
		dy[d.DY]++
		dx[d.DX]++
		if d.Flip {
			flips++
		}
		if d.VFlip {
			vflips++
		}
	}
	for k := range dy {
		if math.Abs(float64(dy[k])-n/5) > 400 || math.Abs(float64(dx[k])-n/5) > 400 {
			t.Errorf("offset %d drawn %d and %d times of %d, want about %d", k, dy[k], dx[k], n, n/5)
		}
	}
	if math.Abs(float64(flips)-n/2) > 500 || math.Abs(float64(vflips)-n/2) > 500 {
		t.Errorf("flips %d, vflips %d of %d, want about half", flips, vflips, n)
	}
	same := 0
	b := *a
	b.Seed = 8
	for i := range 1000 {
		if a.Draw(3, i) == a.Draw(4, i) {
			same++
		}
		if a.Draw(3, i) == b.Draw(3, i) {
			same++
		}
	}
	if same > 100 { // 1/100 of draws agree by chance
		t.Errorf("%d of 2000 draws equal across epochs or seeds", same)
	}
	if d := (&Augment{Crop: 2}).Draw(0, 1); d.Flip || d.VFlip {
		t.Errorf("flips drawn without Flip or VFlip: %+v", d)
	}
}

func TestParseAugment(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Augment
		err  bool
	}{
		{"crop=2,flip", Augment{Crop: 2, Flip: true}, false},
		{"vflip", Augment{VFlip: true}, false},
		{"flip, crop=4, vflip", Augment{Crop: 4, Flip: true, VFlip: true}, false},
		{"erase,flip", Augment{Flip: true, Erase: true}, false},
		{"erase=1", Augment{}, true},
		{"crop", Augment{}, true},
		{"crop=0", Augment{}, true},
		{"crop=x", Augment{}, true},
		{"flip=1", Augment{}, true},
		{"flip,flip", Augment{}, true},
		{"rotate", Augment{}, true},
		{"", Augment{}, true},
	} {
		got, err := ParseAugment(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseAugment(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if !tc.err {
			back, _ := ParseAugment(got.String())
			if back != got {
				t.Errorf("String %q does not parse back", got.String())
			}
		}
	}
	a, _ := ParseAugment("flip")
	if err := a.SetShape([]int{784}); err == nil {
		t.Error("SetShape of a flat input: no error")
	}
}

func TestFillRowAugmentedAllocatesNothing(t *testing.T) {
	d := &Dataset{Name: "t", N: 1, Features: 3 * 32 * 32, U8: make([]uint8, 3*32*32), Scale: make([]float64, 3*32*32), Labels: []int32{0}, Classes: []string{"a"}}
	a := &Augment{C: 3, H: 32, W: 32, Crop: 4, Flip: true, Erase: true}
	dst := make([]float32, d.Features)
	if n := testing.AllocsPerRun(100, func() { FillRowAugmented(d, 0, a, 1, dst) }); n != 0 {
		t.Errorf("%v allocations per row", n)
	}
}

// TestEraseBoxes checks RandomErasing's draws: about half the samples
// erased, every box inside the image with an area of 2–33% of it and an
// aspect ratio in [0.3, 3.3] up to rounding, and the transform's output
// in the box 0 (erasing comes after it).
func TestEraseBoxes(t *testing.T) {
	a := &Augment{C: 2, H: 28, W: 20, Erase: true, Seed: 3}
	erased := 0
	const n = 4000
	for i := range n {
		d := a.Draw(1, i)
		if d.EH == 0 {
			continue
		}
		erased++
		area := float64(d.EH * d.EW)
		if d.EY < 0 || d.EX < 0 || d.EY+d.EH > a.H || d.EX+d.EW > a.W || area < 0.01*28*20 || area > 0.4*28*20 {
			t.Fatalf("sample %d: box %+v in a 28×20 image", i, d)
		}
	}
	if math.Abs(float64(erased)-n/2) > 150 {
		t.Errorf("%d of %d samples erased, want about half", erased, n)
	}
	ds := &Dataset{Name: "t", N: 1, Features: 2 * 28 * 20, U8: make([]uint8, 2*28*20), Scale: make([]float64, 2*28*20), Shift: make([]float64, 2*28*20),
		Labels: []int32{0}, Classes: []string{"a"}}
	for j := range ds.Shift {
		ds.Shift[j] = -0.5
	}
	for i := range 100 {
		d := a.Draw(2, i)
		if d.EH == 0 {
			continue
		}
		row := make([]float32, ds.Features)
		FillRowAugmented(ds, 0, a, 2, row)
		zeros := 0
		for _, v := range row {
			if v == 0 {
				zeros++
			}
		}
		if zeros != 2*d.EH*d.EW {
			t.Fatalf("%d zeros in the row, want the box's %d", zeros, 2*d.EH*d.EW)
		}
		return
	}
	t.Fatal("no sample erased")
}
