package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ptrain/ptrain/model/num"
)

// Task says what the targets are.
type Task int

// The tasks.
const (
	Classification Task = iota // an integer class per sample
	Regression                 // real-valued targets per sample
)

// String returns "classification" or "regression".
func (t Task) String() string {
	if t == Regression {
		return "regression"
	}
	return "classification"
}

// ParseTask reads a task by the name String gives it.
func ParseTask(s string) (Task, error) {
	switch s {
	case "classification":
		return Classification, nil
	case "regression":
		return Regression, nil
	}
	return 0, fmt.Errorf("task %s: want classification or regression", Quote(s))
}

// MarshalText returns the task's name, as String does; it refuses a value
// that is neither task, which String would call classification.
func (t Task) MarshalText() ([]byte, error) {
	if t != Classification && t != Regression {
		return nil, fmt.Errorf("data: task %d: want Classification or Regression", int(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads what MarshalText writes (see ParseTask).
func (t *Task) UnmarshalText(b []byte) error {
	v, err := ParseTask(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Dataset is a table of samples. Exactly one of the raw feature slices is
// set.
type Dataset struct {
	Name         string
	N            int // samples
	Features     int // features per sample
	U8           []uint8
	F64          []float64
	Scale        []float64 // per feature; nil means 1
	Shift        []float64 // per feature; nil means 0
	Task         Task
	Labels       []int32   // Classification: the class of each sample
	Classes      []string  // Classification: class names, indexed by label
	Targets      []float64 // Regression: N×Outputs
	Outputs      int       // Regression: targets per sample
	Columns      []string  // feature names, if the source had them
	RowLines     []int32   // source line of each row, if the source had lines (line32)
	Source       []int     // CSV: each feature's 0-based column in the file
	LabelColumns []string  // CSV with a header: the label columns' names

	// A raw table (CSVOptions.Raw), before a Preprocess encodes it, holds
	// NaN for a missing cell, and in a text column the index of the cell's
	// text in Levels[j]. Levels[j] is nil for a numeric column; Overflow[j]
	// marks a text column of more than MaxLevels texts, whose cells were
	// not kept.
	Levels   [][]string
	Overflow []bool

	// TargetScale and TargetShift, if set, are a regression target
	// transform y·TargetScale[k] + TargetShift[k] that FillTarget applies:
	// the model learns standardised targets (Preprocess.ScaleTargets).
	TargetScale, TargetShift []float64
}

// Value returns feature j of sample i after the transform.
func (d *Dataset) Value(i, j int) float64 {
	var v float64
	if d.U8 != nil {
		v = float64(d.U8[i*d.Features+j])
	} else {
		v = d.F64[i*d.Features+j]
	}
	if d.Scale != nil {
		v *= d.Scale[j]
	}
	if d.Shift != nil {
		v += d.Shift[j]
	}
	return v
}

// FillRow writes the transformed features of sample i into dst
// (len Features).
func FillRow[T num.Float](d *Dataset, i int, dst []T) {
	f := d.Features
	dst = dst[:f]
	switch {
	case d.U8 != nil && d.Scale != nil && num.Is32[T]():
		fillU8(d.U8[i*f:(i+1)*f], d.Scale[:f], d.Shift, num.As32(dst))
	case d.U8 != nil && d.Scale != nil && d.Shift == nil:
		src, sc := d.U8[i*f:(i+1)*f], d.Scale[:f]
		for j, v := range src {
			dst[j] = T(float64(v) * sc[j])
		}
	case d.U8 != nil:
		for j := range dst {
			dst[j] = T(d.Value(i, j))
		}
	case d.Scale == nil && d.Shift == nil:
		for j, v := range d.F64[i*f : (i+1)*f] {
			dst[j] = T(v)
		}
	default:
		src, sc, sh := d.F64[i*f:(i+1)*f], d.Scale, d.Shift
		for j, v := range src {
			x := v
			if sc != nil {
				x *= sc[j]
			}
			if sh != nil {
				x += sh[j]
			}
			dst[j] = T(x)
		}
	}
}

// fillU8 writes dst[j] = float32(float64(src[j])·scale[j] + shift[j]),
// the transform of Value rounded once to float32; shift may be nil. This is
// the row fill of every image dataset, for every sample of every epoch: on
// amd64 it runs 4 lanes at a time in fill_amd64.s, with the same float64
// operations, so the bits are the same either way.
func fillU8(src []uint8, scale, shift []float64, dst []float32) {
	dst = dst[:len(src)]
	scale = scale[:len(src)]
	if shift != nil {
		shift = shift[:len(src)]
	}
	j := 0
	if n := len(src) &^ 3; haveAVX && n > 0 {
		var sh *float64
		if shift != nil {
			sh = &shift[0]
		}
		u8AffineF32AVX(&src[0], &scale[0], sh, &dst[0], n)
		j = n
	}
	for ; j < len(src); j++ {
		x := float64(src[j]) * scale[j]
		if shift != nil {
			x += shift[j]
		}
		dst[j] = float32(x)
	}
}

// TargetWidth is the width of a target row for a model with outputs
// outputs, or an error if the two do not fit: classification takes one-hot
// rows of width len(Classes), or a single 0/1 column for two classes;
// regression takes exactly Outputs columns.
func (d *Dataset) TargetWidth(outputs int) error {
	switch d.Task {
	case Classification:
		if outputs == len(d.Classes) || (outputs == 1 && len(d.Classes) <= 2) {
			return nil
		}
		return fmt.Errorf("%s has %d classes, the model has %d outputs (want %d, or 1 for two classes)", d.Name, len(d.Classes), outputs, len(d.Classes))
	default:
		if outputs == d.Outputs {
			return nil
		}
		return fmt.Errorf("%s has %d regression targets, the model has %d outputs", d.Name, d.Outputs, outputs)
	}
}

// FillTarget writes the target row of sample i (width as in TargetWidth).
func FillTarget[T num.Float](d *Dataset, i int, dst []T) {
	switch {
	case d.Task == Regression && d.TargetScale != nil:
		for j := range dst {
			dst[j] = T(d.Targets[i*d.Outputs+j]*d.TargetScale[j] + d.TargetShift[j])
		}
	case d.Task == Regression:
		for j := range dst {
			dst[j] = T(d.Targets[i*d.Outputs+j])
		}
	case len(dst) == 1:
		dst[0] = T(d.Labels[i])
	default:
		clear(dst)
		dst[d.Labels[i]] = 1
	}
}

// Subset copies the samples idx into a new dataset with the same transform
// and class names.
func (d *Dataset) Subset(name string, idx []int) *Dataset {
	s := *d
	s.Name, s.N = name, len(idx)
	f := d.Features
	if d.U8 != nil {
		s.U8 = make([]uint8, 0, len(idx)*f)
		for _, i := range idx {
			s.U8 = append(s.U8, d.U8[i*f:(i+1)*f]...)
		}
	} else {
		s.F64 = make([]float64, 0, len(idx)*f)
		for _, i := range idx {
			s.F64 = append(s.F64, d.F64[i*f:(i+1)*f]...)
		}
	}
	s.Labels, s.Targets, s.RowLines = nil, nil, nil
	for _, i := range idx {
		if d.Labels != nil {
			s.Labels = append(s.Labels, d.Labels[i])
		}
		if d.Targets != nil {
			s.Targets = append(s.Targets, d.Targets[i*d.Outputs:(i+1)*d.Outputs]...)
		}
		if d.RowLines != nil {
			s.RowLines = append(s.RowLines, d.RowLines[i])
		}
	}
	return &s
}

// Split shuffles the samples with seed and divides them: the first
// (1−frac) become train (keeping d's name), the rest the held-out set,
// each in file order. frac must be in [0, 1); with frac 0 the held-out set
// is nil and train is d itself.
//
// Split copies nothing: it reorders d's rows in place so that the training
// rows come first, and returns two views of d's storage. MNIST's training
// set split this way costs no second 47 MB. d itself should not be used
// afterwards other than through the two views.
func (d *Dataset) Split(frac float64, seed uint64) (train, held *Dataset, err error) {
	if !(frac >= 0 && frac < 1) {
		return nil, nil, fmt.Errorf("split fraction %g: must be in [0, 1)", frac)
	}
	if frac == 0 {
		return d, nil, nil
	}
	nHeld := int(math.Round(frac * float64(d.N)))
	if nHeld == 0 || nHeld == d.N {
		return nil, nil, fmt.Errorf("%s: a split of %g of %d samples leaves one side empty", d.Name, frac, d.N)
	}
	perm := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(d.N)
	nTrain := d.N - nHeld
	slices.Sort(perm[:nTrain]) // keep file order within each side
	slices.Sort(perm[nTrain:])
	d.permute(perm)
	return d.rows(d.Name, 0, nTrain), d.rows(d.Name+" (held out)", nTrain, d.N), nil
}

// permute reorders the rows in place so that new row i is old row perm[i],
// following the permutation's cycles with one row of scratch per array.
func (d *Dataset) permute(perm []int) {
	done := make([]bool, len(perm))
	permuteRows(d.U8, d.Features, perm, done)
	permuteRows(d.F64, d.Features, perm, done)
	permuteRows(d.Labels, 1, perm, done)
	permuteRows(d.Targets, d.Outputs, perm, done)
	permuteRows(d.RowLines, 1, perm, done)
}

func permuteRows[E any](s []E, width int, perm []int, done []bool) {
	if len(s) == 0 {
		return
	}
	clear(done)
	tmp := make([]E, width)
	row := func(i int) []E { return s[i*width : (i+1)*width] }
	for i := range perm {
		if done[i] || perm[i] == i {
			continue
		}
		copy(tmp, row(i))
		j := i
		for {
			done[j] = true
			k := perm[j]
			if k == i {
				copy(row(j), tmp)
				break
			}
			copy(row(j), row(k))
			j = k
		}
	}
}

// rows is a view of rows [lo, hi), sharing d's storage.
func (d *Dataset) rows(name string, lo, hi int) *Dataset {
	v := *d
	v.Name, v.N = name, hi-lo
	f := d.Features
	if d.U8 != nil {
		v.U8 = d.U8[lo*f : hi*f : hi*f]
	}
	if d.F64 != nil {
		v.F64 = d.F64[lo*f : hi*f : hi*f]
	}
	if d.Labels != nil {
		v.Labels = d.Labels[lo:hi:hi]
	}
	if d.Targets != nil {
		v.Targets = d.Targets[lo*d.Outputs : hi*d.Outputs : hi*d.Outputs]
	}
	if d.RowLines != nil {
		v.RowLines = d.RowLines[lo:hi:hi]
	}
	return &v
}

// ClassCounts counts the samples of each class.
func (d *Dataset) ClassCounts() []int {
	c := make([]int, len(d.Classes))
	for _, l := range d.Labels {
		c[l]++
	}
	return c
}

// Bytes is the memory held by features and targets.
func (d *Dataset) Bytes() int {
	return len(d.U8) + 8*len(d.F64) + 4*len(d.Labels) + 8*len(d.Targets)
}
