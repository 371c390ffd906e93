package checkpoint

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
)

// A table's preprocessing is saved with the model and loads equal; one
// that does not fit the model is refused, naming the metadata key.
func TestPreprocessRoundTripsAndIsChecked(t *testing.T) {
	m, err := model.New[float32](model.MustParseSpec("4-3:relu-1"), 1)
	if err != nil {
		t.Fatal(err)
	}
	p := &data.Preprocess{ByName: true, NA: []string{"", "NA"}, TargetScale: []float64{1e-5}, TargetShift: []float64{-2}, Columns: []data.PrepColumn{
		{Name: "id", Index: 0, Drop: true},
		{Name: "city", Index: 1, Categorical: true, Categories: []string{"east", "north"}, Impute: "most_frequent", FillCategory: "north"},
		{Name: "sqft", Index: 3, Impute: "median", Fill: 1250.5, Indicator: true},
	}}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, &Checkpoint[float32]{Model: m, Task: new(data.Regression), Preprocess: p}); err != nil {
		t.Fatal(err)
	}
	c, err := Load[float32](path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Preprocess, p) {
		t.Errorf("loaded %+v, saved %+v", c.Preprocess, p)
	}
	for _, tc := range []struct {
		name string
		edit func(*data.Preprocess)
		want string
	}{
		{"width", func(p *data.Preprocess) { p.Columns[2].Indicator = false }, "makes 3 features, the model takes 4"},
		{"unsorted", func(p *data.Preprocess) { p.Columns[1].Categories = []string{"north", "east"} }, "want them sorted and distinct"},
		{"fill", func(p *data.Preprocess) { p.Columns[1].FillCategory = "west" }, `fill category "west"`},
		{"target", func(p *data.Preprocess) { p.TargetScale[0] = 0 }, "want a finite scale > 0"},
	} {
		q := *p
		q.Columns = append([]data.PrepColumn(nil), p.Columns...)
		q.Columns[1].Categories = append([]string(nil), p.Columns[1].Categories...)
		q.TargetScale = append([]float64(nil), p.TargetScale...)
		tc.edit(&q)
		err := Save(path, &Checkpoint[float32]{Model: m, Task: new(data.Regression), Preprocess: &q})
		if err == nil || !strings.Contains(err.Error(), `metadata "ptrain.preprocess"`) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Metadata[MetaPreprocess] = `{"columns": [], "bogus": 1}`
	if _, err := Decode[float32](f); err == nil || !strings.Contains(err.Error(), `unknown field "bogus"`) {
		t.Errorf("an unknown field: %v", err)
	}
}
