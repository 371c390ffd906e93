package data

import "testing"

func TestNumericHeader(t *testing.T) {
	for _, tc := range []struct {
		fields []string
		want   bool
	}{
		{[]string{"5.1", " 3.5", "1.4", "0"}, true},
		{[]string{"-1e3", "2"}, true},
		{[]string{"sepal", "3.5"}, false},
		{[]string{"1", ""}, false},
		{[]string{"id", "price"}, false},
		{nil, false},
	} {
		if got := NumericHeader(tc.fields); got != tc.want {
			t.Errorf("NumericHeader(%q) = %v, want %v", tc.fields, got, tc.want)
		}
	}
}
