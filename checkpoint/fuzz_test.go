package checkpoint

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// FuzzDecode feeds Decode checkpoints whose metadata (what this package
// parses: the architecture, optimizer, progress, task, classes and
// preprocessing) and
// bytes are mutated: it returns a checkpoint or an error, never panics,
// and what it accepts encodes again and decodes to the same metadata.
func FuzzDecode(f *testing.F) {
	m, err := model.New[float64](model.MustParseSpec("2x2x2-conv(2,2)-bn:relu-flatten-3:softmax"), 1)
	if err != nil {
		f.Fatal(err)
	}
	opt, _ := optim.New[float64](optim.Defaults(optim.Adam), len(m.Params))
	opt.Step(m.Params, make([]float64, len(m.Params)))
	c := &Checkpoint[float64]{Model: m, Optimizer: opt, Task: new(data.Classification), Classes: []string{"a", "b", "c"},
		Progress: parallel.Progress{Epoch: 1, BestEpoch: 1, BestValLoss: 0.5}, Meta: map[string]string{"mine": "x"}}
	var buf bytes.Buffer
	if err := Write(&buf, c); err != nil {
		f.Fatal(err)
	}
	good := buf.Bytes()
	file, err := safetensors.Parse(good)
	if err != nil {
		f.Fatal(err)
	}
	meta, _ := json.Marshal(file.Metadata)
	f.Add(good, string(meta))
	f.Add(good, `{"ptrain.arch":"2x2x2-conv(2,2)-bn:relu-flatten-3","ptrain.task":"classification","ptrain.classes":"[\"a\"]"}`)
	f.Add(good, `{"ptrain.optimizer":"{\"method\":\"adam\",\"lr\":-1}","ptrain.progress":"{\"epoch\":-3}"}`)
	f.Add(good, `{"ptrain.optimizer":"{\"method\":\"adam\",\"lr\":0.1,\"beta1\":0.9,\"beta2\":0.999,\"eps\":1e-8,\"schedule\":{\"kind\":\"step\",\"every\":2,\"gamma\":0.5,\"warmup\":3,\"steps_per_epoch\":7}}"}`)
	f.Add(good, `{"ptrain.preprocess":"{\"by_name\":true,\"na\":[\"\"],\"columns\":[{\"name\":\"c\",\"index\":0,\"categorical\":true,\"categories\":[\"1\",\"2\",\"x\"],\"impute\":\"most_frequent\",\"fill_category\":\"x\"},{\"name\":\"d\",\"index\":2,\"drop\":true},{\"name\":\"v\",\"index\":3,\"impute\":\"median\",\"fill\":2.5,\"indicator\":true},{\"name\":\"w\",\"index\":4},{\"name\":\"z\",\"index\":5},{\"name\":\"q\",\"index\":6}]}"}`)
	f.Fuzz(func(t *testing.T, b []byte, metaJSON string) {
		file, err := safetensors.Parse(b)
		if err != nil {
			return
		}
		var m map[string]string
		if json.Unmarshal([]byte(metaJSON), &m) == nil {
			for k, v := range m {
				if file.Metadata == nil {
					file.Metadata = map[string]string{}
				}
				file.Metadata[k] = v
			}
		}
		c, err := Decode[float64](file)
		if err != nil {
			return
		}
		again, err := Encode(c)
		if err != nil {
			t.Fatalf("a checkpoint Decode accepted does not encode: %v", err)
		}
		if _, err := Decode[float64](again); err != nil {
			t.Fatalf("a checkpoint Decode accepted, encoded again, is refused: %v", err)
		}
	})
}
