package main

import (
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
)

// buildSpec takes the architecture of the -init file train read once (the
// same File then gives the weights): without -arch, the one the file
// records; without the file, or with -arch, not.
func TestBuildSpecTakesTheInitFilesArchitecture(t *testing.T) {
	ds, err := data.Digits()
	if err != nil {
		t.Fatal(err)
	}
	recorded := &safetensors.File{Metadata: map[string]string{model.MetaArch: "64-16:relu-10:softmax"}}
	for _, tc := range []struct {
		arch string
		init *safetensors.File
		want string
	}{
		{"", recorded, "64-16:relu-10:softmax"},
		{"", &safetensors.File{}, defaultArch(ds)},
		{"", nil, defaultArch(ds)},
		{"64-8:relu-10:softmax", recorded, "64-8:relu-10:softmax"},
	} {
		c := defaultConfig()
		c.Arch, c.Init = tc.arch, "w.safetensors"
		sp, err := buildSpec(&c, ds, tc.init)
		if err != nil || sp.String() != tc.want {
			t.Errorf("-arch %q, file %v: %v, %v; want %s", tc.arch, tc.init, sp, err, tc.want)
		}
	}
}
