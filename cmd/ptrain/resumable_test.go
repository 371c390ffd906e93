package main

import (
	"strings"
	"testing"
)

// TestResumableFlagsNamedInFull: the list that the -resume help and the
// refusal print names every flag a resumed run may change (a list kept by
// hand beside the map had lost -monitor, -overwrite, -download and
// -csv-max-mib).
func TestResumableFlagsNamedInFull(t *testing.T) {
	list := resumableList()
	for name := range resumable {
		if !strings.Contains(list, "-"+name+",") && !strings.Contains(list, "-"+name+" and") && !strings.HasSuffix(list, "-"+name) {
			t.Errorf("resumableList() %q lacks -%s", list, name)
		}
	}
}
