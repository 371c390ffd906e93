package data

import (
	"reflect"
	"testing"
)

// Digits parses its table once: a caller that permutes, splits or rescales
// what it got must not change what the next call returns.
func TestDigitsCallsAreIndependent(t *testing.T) {
	a, err := Digits()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Digits()
	if !reflect.DeepEqual(a, want) {
		t.Fatal("two calls differ before any change")
	}
	if _, _, err := a.Split(0.5, 1); err != nil { // permutes a's rows in place
		t.Fatal(err)
	}
	a.Scale[0], a.Classes[0] = 2, "changed"
	b, _ := Digits()
	if !reflect.DeepEqual(b, want) {
		t.Fatal("a change to one call's dataset shows in the next call's")
	}
	if b.N != 1797 || b.Features != 64 || len(b.Classes) != 10 || b.Scale[0] != 1.0/16 {
		t.Fatalf("digits: %d×%d, %d classes, scale %g", b.N, b.Features, len(b.Classes), b.Scale[0])
	}
}

// clone copies every slice field: a field added to Dataset later and
// forgotten in clone shares storage, which this catches for the fields
// set here.
func TestCloneSharesNoStorage(t *testing.T) {
	d := &Dataset{N: 1, Features: 1, U8: []uint8{1}, F64: []float64{1}, Scale: []float64{1}, Shift: []float64{1},
		Labels: []int32{1}, Classes: []string{"a"}, Targets: []float64{1}, Columns: []string{"c"}, RowLines: []int32{1},
		Source: []int{1}, LabelColumns: []string{"l"}, Levels: [][]string{{"x"}}, Overflow: []bool{true},
		TargetScale: []float64{1}, TargetShift: []float64{1}}
	c := d.clone()
	v, w := reflect.ValueOf(d).Elem(), reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Slice {
			continue
		}
		if f.Len() == 0 {
			t.Errorf("field %s is not set by this test: set it", v.Type().Field(i).Name)
			continue
		}
		if f.Pointer() == w.Field(i).Pointer() {
			t.Errorf("clone shares %s", v.Type().Field(i).Name)
		}
	}
	if &d.Levels[0][0] == &c.Levels[0][0] {
		t.Error("clone shares Levels[0]")
	}
}
