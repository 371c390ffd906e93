package checkpoint

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
)

// The preprocessing of a table of several text columns of data.MaxLevels
// long categories each is more than MaxMeta, and is saved and read back
// under its own cap, MaxPreprocess.
func TestManyCategoriesFitThePreprocessCap(t *testing.T) {
	const cols = 4
	m, err := model.New[float32](model.MustParseSpec(fmt.Sprintf("%d-1", cols*data.MaxLevels)), 1)
	if err != nil {
		t.Fatal(err)
	}
	p := &data.Preprocess{ByName: true, NA: []string{""}}
	for j := range cols {
		c := data.PrepColumn{Name: fmt.Sprintf("text%d", j), Index: j, Categorical: true}
		for i := range data.MaxLevels {
			c.Categories = append(c.Categories, fmt.Sprintf("category %091d", i)) // 100 bytes
		}
		p.Columns = append(p.Columns, c)
	}
	s, err := EncodePreprocess(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) <= MaxMeta {
		t.Fatalf("the preprocessing is %d bytes: the test wants more than MaxMeta", len(s))
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, &Checkpoint[float32]{Model: m, Task: new(data.Regression), Preprocess: p}); err != nil {
		t.Fatal(err)
	}
	c, err := Load[float32](path)
	if err != nil {
		t.Fatalf("a %d-byte preprocessing: %v", len(s), err)
	}
	if !reflect.DeepEqual(c.Preprocess, p) {
		t.Error("the preprocessing loaded differs from the one saved")
	}
}

// Values over their caps are refused naming the cap: by Encode (so that
// no file is written that could not be read back) and when decoded.
func TestMetadataCapsNameThemselves(t *testing.T) {
	// json.Marshal writes '<' as \u003c: 1400 of them are 8400 bytes, and
	// 4096 such categories are more than MaxPreprocess.
	big := data.PrepColumn{Name: "text", Categorical: true}
	for i := range data.MaxLevels {
		big.Categories = append(big.Categories, fmt.Sprintf("%04d", i)+strings.Repeat("<", 1400))
	}
	if _, err := EncodePreprocess(&data.Preprocess{Columns: []data.PrepColumn{big}}); err == nil || !strings.Contains(err.Error(), "(checkpoint.MaxPreprocess)") {
		t.Errorf("an oversized preprocessing encoded: %v", err)
	}
	m, err := model.New[float32](model.MustParseSpec("4-1"), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  string
		n    int
		want string
	}{
		{MetaPreprocess, MaxPreprocess + 1, fmt.Sprintf(`metadata "ptrain.preprocess" is %d bytes, more than the limit of %d (checkpoint.MaxPreprocess)`, MaxPreprocess+1, MaxPreprocess)},
		{MetaSplit, MaxMeta + 1, `metadata "ptrain.split" is 1048577 bytes, more than the limit of 1048576 (checkpoint.MaxMeta)`},
		{MetaInputRange, MaxMeta + 1, `metadata "ptrain.input_range" is 1048577 bytes, more than the limit`},
		{MetaBatch, MaxMeta + 1, `metadata "ptrain.batch" is 1048577 bytes, more than the limit`},
	} {
		f, err := Encode(&Checkpoint[float32]{Model: m})
		if err != nil {
			t.Fatal(err)
		}
		f.Metadata[tc.key] = strings.Repeat(" ", tc.n)
		if _, err := Decode[float32](f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s of %d bytes: %v, want %q", tc.key, tc.n, err, tc.want)
		}
	}
}
