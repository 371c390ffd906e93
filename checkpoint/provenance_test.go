package checkpoint

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
)

// TrainedOn's record — transform, input range, split and batch size —
// survives a save and a load, and a file that lies about it is refused
// naming the key.
func TestTrainedOnIsKept(t *testing.T) {
	c, train := trained[float32](t, optim.Adam)
	info := data.SplitInfo{Data: strings.Repeat("ab", 32), Rows: 1797, Share: 0.2, Seed: data.TestSeed}
	c.Transform = data.Transform{}
	c.TrainedOn(train, info, 50)
	if c.Transform.Scale == nil || c.BatchSize != 50 || c.Split != info || !c.InputRange.Known() {
		t.Fatalf("TrainedOn set transform %v, batch %d, split %+v, range %v", c.Transform.Scale != nil, c.BatchSize, c.Split, c.InputRange)
	}
	var buf bytes.Buffer
	if err := Write(&buf, c); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode[float32](f)
	if err != nil {
		t.Fatal(err)
	}
	if got.Split != info || got.BatchSize != 50 || got.InputRange != c.InputRange {
		t.Errorf("loaded split %+v, batch %d, range %v; saved %+v, 50, %v", got.Split, got.BatchSize, got.InputRange, info, c.InputRange)
	}
	for _, tc := range []struct{ key, value string }{
		{MetaSplit, `{"data":"abc","rows":10,"share":0.2,"seed":1}`},
		{MetaSplit, `{"data":"` + info.Data + `","rows":10,"share":1,"seed":1}`},
		{MetaBatch, "0"},
		{MetaBatch, "many"},
		{MetaInputRange, `{"min":2,"max":1}`},
		{MetaInputRange, `[0,1]`},
	} {
		g, _ := safetensors.Parse(bytes.Clone(buf.Bytes()))
		g.Metadata[tc.key] = tc.value
		if _, err := Decode[float32](g); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s = %s: %v, want an error naming the key", tc.key, tc.value, err)
		}
	}
	c.InputRange = data.Range{Min: 1, Max: 0}
	if err := Write(&buf, c); err == nil {
		t.Error("Write accepted an InputRange with Min > Max")
	}
	c.InputRange, c.Meta[MetaBatch] = data.Range{}, "3"
	if err := Write(&buf, c); err == nil || !strings.Contains(err.Error(), MetaBatch) {
		t.Errorf("Write with Meta[%q]: %v, want the key refused", MetaBatch, err)
	}
}
