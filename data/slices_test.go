package data

import (
	"math"
	"strings"
	"testing"
)

func TestFromSlices(t *testing.T) {
	x := [][]float64{{1, 2}, {3, 4}, {5, 6}}
	d, err := FromSlices(x, []int{0, 2, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 || d.Features != 2 || len(d.Classes) != 3 || d.Classes[2] != "2" || d.Labels[1] != 2 {
		t.Fatalf("%+v", d)
	}
	x[0][0] = 9 // copied
	if d.F64[0] != 1 {
		t.Fatal("FromSlices kept the caller's rows")
	}
	row := make([]float32, 2)
	FillRow(d, 2, row)
	if row[0] != 5 || row[1] != 6 {
		t.Fatalf("row 2 is %v", row)
	}
	if err := d.Fits(2, 3); err != nil {
		t.Fatal(err)
	}
	if err := d.Fits(3, 3); err == nil || !strings.Contains(err.Error(), "2 features, the model takes 3") {
		t.Fatalf("Fits(3, 3) = %v", err)
	}
	r, err := RegressionFromSlices([][]float64{{1}, {2}}, [][]float64{{0.5, 1}, {1.5, 2}})
	if err != nil || r.Task != Regression || r.Outputs != 2 || r.Targets[3] != 2 || r.Fits(1, 2) != nil {
		t.Fatalf("%+v %v", r, err)
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{second(FromSlices(nil, nil, nil)), "no samples"},
		{second(FromSlices([][]float64{{1, 2}, {3}}, []int{0, 1}, nil)), "sample 1 has 1 features, sample 0 has 2"},
		{second(FromSlices([][]float64{{1}, {3}}, []int{0}, nil)), "2 rows, 1 labels"},
		{second(FromSlices([][]float64{{1}, {3}}, []int{0, 2}, []string{"a", "b"})), "sample 1: label 2, want 0 to 1"},
		{second(FromSlices([][]float64{{1}, {3}}, []int{-1, 0}, nil)), "sample 0: label -1"},
		{second(FromSlices([][]float64{{1}, {math.NaN()}}, []int{0, 1}, nil)), "sample 1: feature 0 is NaN"},
		{second(RegressionFromSlices([][]float64{{1}, {3}}, [][]float64{{1}, {math.Inf(1)}})), "sample 1: target 0 is +Inf"},
		{second(RegressionFromSlices([][]float64{{1}, {3}}, [][]float64{{1}, {1, 2}})), "sample 1 has 2 targets"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("error %v, want %q", tc.err, tc.want)
		}
	}
}

func second(_ *Dataset, err error) error { return err }

// TestValidateHandBuilt: the inconsistencies that made FillRow panic are
// errors from Validate, Fits and NewBatcher.
func TestValidateHandBuilt(t *testing.T) {
	for _, tc := range []struct {
		d    Dataset
		want string
	}{
		{Dataset{Name: "short", N: 3, Features: 2, F64: make([]float64, 5), Labels: make([]int32, 3), Classes: []string{"a"}}, "5 feature values, want 3 samples × 2 features"},
		{Dataset{Name: "labels", N: 2, Features: 1, F64: make([]float64, 2), Labels: []int32{0, 3}, Classes: []string{"a", "b"}}, "sample 1: label 3"},
		{Dataset{Name: "both", N: 1, Features: 1, F64: []float64{1}, U8: []uint8{1}, Labels: []int32{0}, Classes: []string{"a"}}, "exactly one of U8 and F64"},
		{Dataset{Name: "targets", N: 2, Features: 1, F64: make([]float64, 2), Task: Regression, Outputs: 1, Targets: []float64{1}}, "1 target values"},
		{Dataset{Name: "scale", N: 1, Features: 2, F64: make([]float64, 2), Labels: []int32{0}, Classes: []string{"a"}, Scale: []float64{1}}, "1 scales"},
	} {
		if err := tc.d.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want %q", tc.d.Name, err, tc.want)
		}
		if err := tc.d.Fits(tc.d.Features, 1); err == nil {
			t.Errorf("%s: Fits accepted it", tc.d.Name)
		}
		if _, err := NewBatcher[float32](&tc.d, 2, 1, false, 1); err == nil {
			t.Errorf("%s: NewBatcher accepted it", tc.d.Name)
		}
	}
	d, _ := Digits()
	if err := d.Validate(); err != nil {
		t.Errorf("digits: %v", err)
	}
	train, test, _ := d.Split(0.2, 1)
	if train.Validate() != nil || test.Validate() != nil {
		t.Error("a split of the digits is not valid")
	}
}
