package checkpoint

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/model/safetensors"
)

// What the model was trained on, beyond the transform: the held-out split
// (so that an evaluation or a resumed run holds out the same rows, and
// knows when the data changed), the batch size (so that a resumed run
// keeps it) and the range of the inputs (so that data scaled otherwise is
// noticed). Each is optional: a file without them is one whose program
// did not say.
const (
	MetaSplit      = "ptrain.split"       // data.SplitInfo as JSON
	MetaBatch      = "ptrain.batch"       // the training batch size
	MetaInputRange = "ptrain.input_range" // data.Range as JSON
)

// encodeProvenance adds c's split, batch size and input range to meta.
func encodeProvenance[T num.Float](c *Checkpoint[T], meta map[string]string) error {
	if c.Split.Known() {
		b, _ := json.Marshal(c.Split)
		meta[MetaSplit] = string(b)
	}
	if c.BatchSize != 0 {
		meta[MetaBatch] = strconv.Itoa(c.BatchSize)
	}
	if c.InputRange.Known() {
		r := c.InputRange
		if !goodRange(r) {
			return fmt.Errorf("checkpoint: InputRange %v: want finite Min ≤ Max", r)
		}
		b, _ := json.Marshal(r)
		meta[MetaInputRange] = string(b)
	}
	return nil
}

// goodRange reports whether r is finite with Min ≤ Max.
func goodRange(r data.Range) bool {
	return !math.IsNaN(r.Min) && !math.IsInf(r.Min, 0) && !math.IsNaN(r.Max) && !math.IsInf(r.Max, 0) && r.Min <= r.Max
}

// decodeProvenance reads and checks the split, batch size and input range.
func (h *Header) decodeProvenance(f *safetensors.File) error {
	if s, ok := f.Metadata[MetaSplit]; ok {
		if err := json.Unmarshal([]byte(s), &h.Split); err != nil {
			return fmt.Errorf("metadata %q: %v", MetaSplit, err)
		}
		sp := h.Split
		if len(sp.Data) != 64 || sp.Rows < 1 || !(sp.Share >= 0 && sp.Share < 1) {
			return fmt.Errorf("metadata %q: want a 64-digit fingerprint, rows ≥ 1 and a share in [0, 1)", MetaSplit)
		}
	}
	if s, ok := f.Metadata[MetaBatch]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("metadata %q is %.40q: want a batch size ≥ 1", MetaBatch, s)
		}
		h.BatchSize = n
	}
	if s, ok := f.Metadata[MetaInputRange]; ok {
		r := &h.InputRange
		if err := json.Unmarshal([]byte(s), r); err != nil || !goodRange(*r) {
			return fmt.Errorf("metadata %q is %.40q: want {\"min\": a, \"max\": b}, finite, a ≤ b", MetaInputRange, s)
		}
	}
	return nil
}

// TrainedOn records what the model was trained on: the training split's
// transform (Transform: x·Scale + Shift, such as data.Digits's 1/16 or
// LoadMNIST's 1/255, or a fitted -normalize), the range of its transformed
// features (InputRange, one pass over them: call it once, not at every
// save), the held-out split (Split, from data.TestSplit or SplitRecorded;
// the zero SplitInfo when unknown) and the batch size. ptrain eval,
// predict and train -resume then scale data as the training did, hold out
// the same test rows, keep the batch size, and warn about inputs far
// outside the training range.
func (c *Checkpoint[T]) TrainedOn(train *data.Dataset, split data.SplitInfo, batchSize int) {
	c.Transform = data.Transform{Scale: train.Scale, Shift: train.Shift}
	c.InputRange = data.InputRange(train, 0)
	c.Split = split
	c.BatchSize = batchSize
}
