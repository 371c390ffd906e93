package main

import (
	"io"
	"testing"
)

// MNIST and Fashion-MNIST default to a cosine schedule (98.5% on MNIST
// with the default MLP, where constant gave 97.9-98.0%); other data and an
// explicit -schedule keep theirs.
func TestImageDatasetsDefaultToCosine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", "mnist"}, "cosine"},
		{[]string{"-data", "fashion-mnist:/some/dir"}, "cosine"},
		{[]string{"-data", "mnist", "-schedule", "constant"}, "constant"},
		{[]string{"-data", "digits"}, "constant"},
		{nil, "constant"},
	} {
		c, _, err := parseTrainConfig(tc.args, io.Discard)
		if err != nil || c.Schedule != tc.want {
			t.Errorf("%v: schedule %q, %v; want %q", tc.args, c.Schedule, err, tc.want)
		}
	}
}
