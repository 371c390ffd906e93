package data

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestFingerprintChangesWithWhatAModelLearns(t *testing.T) {
	base := func() *Dataset {
		d, err := FromSlices([][]float64{{1, 2}, {3, 4}, {5, 6}}, []int{0, 1, 0}, []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	fp := base().Fingerprint()
	if len(fp) != 64 || base().Fingerprint() != fp {
		t.Fatalf("fingerprint %q: want 64 hex digits, the same for the same data", fp)
	}
	for _, tc := range []struct {
		name   string
		change func(*Dataset)
	}{
		{"a feature", func(d *Dataset) { d.F64[3] = 4.5 }},
		{"a label", func(d *Dataset) { d.Labels[2] = 1 }},
		{"a class name", func(d *Dataset) { d.Classes[1] = "c" }},
		{"the row order", func(d *Dataset) { d.permute([]int{1, 0, 2}) }},
		{"a row fewer", func(d *Dataset) { *d = *d.Subset(d.Name, []int{0, 1}) }},
	} {
		d := base()
		tc.change(d)
		if d.Fingerprint() == fp {
			t.Errorf("%s changed, the fingerprint did not", tc.name)
		}
	}
	d := base()
	d.Scale, d.Name = []float64{2, 2}, "renamed" // not what is learnt from
	if d.Fingerprint() != fp {
		t.Error("the transform or the name changed the fingerprint")
	}
}

// TestSplit is Split with TestSeed, and records what it split.
func TestTestSplitIsTheRecordedSplit(t *testing.T) {
	a, _ := Digits()
	b, _ := Digits()
	fp := a.Fingerprint()
	_, testA, info, err := a.TestSplit(0.2)
	if err != nil {
		t.Fatal(err)
	}
	_, testB, err := b.Split(0.2, TestSeed)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(testA.U8, testB.U8) || !slices.Equal(testA.Labels, testB.Labels) {
		t.Error("TestSplit holds out other rows than Split(share, TestSeed)")
	}
	if info != (SplitInfo{Data: fp, Rows: 1797, Share: 0.2, Seed: TestSeed}) || !info.Known() || info.Short() != fp[:12] {
		t.Errorf("info %+v", info)
	}
}

func TestRangeFarOutside(t *testing.T) {
	unit := Range{0, 1}
	for _, tc := range []struct {
		r, train Range
		far      bool
	}{
		{Range{0, 255}, unit, true},
		{Range{0, 16}, unit, true},
		{Range{0, 1}, unit, false},
		{Range{-0.5, 3}, unit, false},
		{Range{-6, 6}, Range{-4, 4}, false},
		{Range{-60, 2}, Range{-4, 4}, true},
		{Range{0, 255}, Range{}, false}, // unknown: nothing to say
		{Range{3, 3}, Range{2, 2}, false},
		{Range{11, 11}, Range{2, 2}, true},
	} {
		if got := tc.r.FarOutside(tc.train); got != tc.far {
			t.Errorf("%v against %v: far outside %v, want %v", tc.r, tc.train, got, tc.far)
		}
	}
	d, _ := Digits() // pixels 0–16 scaled by 1/16
	if r := InputRange(d, 0); r != (Range{0, 1}) {
		t.Errorf("InputRange of the digits: %v, want [0, 1]", r)
	}
	if r := InputRange(d, 1); r.Max > 1 || r.Min < 0 {
		t.Errorf("InputRange of one row: %v", r)
	}
	// The images' shortcut (raw extremes, then the transform) equals the
	// value-by-value scan, a negative scale included.
	for _, tf := range []Transform{{}, {Scale: fill(64, -0.5), Shift: fill(64, 3)}} {
		tf.Apply(d)
		slow := Range{Min: math.Inf(1), Max: math.Inf(-1)}
		for i := range 100 {
			for j := range d.Features {
				slow.Min, slow.Max = min(slow.Min, d.Value(i, j)), max(slow.Max, d.Value(i, j))
			}
		}
		if r := InputRange(d, 100); r != slow {
			t.Errorf("InputRange with %v: %v, the scan gives %v", tf, r, slow)
		}
	}
}

func fill(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// A raw table's text cells are indices into Levels: a text renamed
// throughout changes no index, and must change the fingerprint.
func TestFingerprintOfARawTableHashesItsTexts(t *testing.T) {
	read := func(in string) *Dataset {
		d, err := ReadCSV(strings.NewReader(in), "t.csv", CSVOptions{Header: true, Label: "y", Raw: true})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	fp := read("a,colour,y\n1,red,0\n2,blue,1\n").Fingerprint()
	if got := read("a,colour,y\n1,crimson,0\n2,blue,1\n").Fingerprint(); got == fp {
		t.Error(`"red" renamed "crimson": the same fingerprint`)
	}
	if got := read("a,colour,y\n1,red,0\n2,blue,1\n").Fingerprint(); got != fp {
		t.Error("the same table: another fingerprint")
	}
}
