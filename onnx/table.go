package onnx

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/model/num"
	pb "github.com/ptrain/ptrain/onnx/internal/onnxpb"
)

// The part of a table's preprocessing (data.Preprocess) that the graph
// holds: imputation of missing values before the model, the target's
// standardisation undone after it. One-hot encoding is not in it: the
// graph's input is the features Preprocess.Apply makes, in the order of
// FeatureNames, one 0/1 feature per category (see the package doc).

// imputeNodes fills missing values as Preprocess.Apply does, for a table
// whose preprocessing imputes or marks them: the input's F features are
// Apply's, and a NaN stands for a missing cell. With fill[j] the value
// Apply writes into feature j for a missing cell —
//
//	a numeric column's Fill; for a categorical column's features, 1 for
//	FillCategory's and 0 for the others; 0 for an indicator; NaN for a
//	column without imputation, which Apply refuses and the graph passes
//	on, so the outputs are NaN —
//
// the nodes compute
//
//	nan    = IsNaN(x)                          bool (batch, F)
//	filled = Where(nan, fill, x)
//
// and, when some column has an indicator feature (at j, reading the
// column's first feature src[j]),
//
//	marked = Max(filled, Gather(Cast(nan), src, axis 1))
//	y      = Where(indicator, marked, filled)
//
// so an indicator is 1 where its column is NaN, and keeps what the input
// gives otherwise (Apply's rows, indicators set, pass through unchanged).
func imputeNodes[T num.Float](b *builder, c *checkpoint.Checkpoint[T]) error {
	p := c.Preprocess
	if p == nil {
		return nil
	}
	n := c.Model.Spec.Inputs
	if f := p.Features(); f != n {
		return fmt.Errorf("onnx: the table's preprocessing makes %d features, the model takes %d", f, n)
	}
	fill := make([]float32, n)
	src := make([]int64, n)
	indicator := make([]bool, n)
	imputes, marks := false, false
	at := 0
	for _, col := range p.Columns {
		if col.Drop {
			continue
		}
		w := 1
		if col.Categorical {
			w = len(col.Categories)
		}
		for k := range w {
			j := at + k
			src[j] = int64(j)
			switch {
			case col.Impute == "":
				fill[j] = float32(math.NaN())
			case col.Categorical && col.Categories[k] == col.FillCategory:
				fill[j] = 1
			case col.Categorical:
				fill[j] = 0
			default:
				fill[j] = float32(col.Fill)
			}
		}
		imputes = imputes || col.Impute != ""
		if col.Indicator {
			j := at + w
			src[j], indicator[j], fill[j], marks = int64(at), true, 0, true
			w++
		}
		at += w
	}
	if !imputes && !marks {
		return nil
	}
	x := b.cur
	b.node("IsNaN", "prep.missing", []string{x})
	nan := b.cur
	b.node("Where", "prep.imputed", []string{nan, b.initializer("prep.fill", []int{n}, fill), x})
	if !marks {
		return nil
	}
	filled := b.cur
	b.node("Cast", "prep.missing_float", []string{nan}, intAttr("to", int64(pb.TensorProto_FLOAT)))
	b.node("Gather", "prep.column_missing", []string{b.cur, b.int64Initializer("prep.indicator_source", src)}, intAttr("axis", 1))
	b.node("Max", "prep.marked", []string{filled, b.cur})
	b.node("Where", "prep.indicators", []string{b.boolInitializer("prep.is_indicator", indicator), b.cur, filled})
	return nil
}

// int64Initializer adds an int64 vector and returns its name.
func (b *builder) int64Initializer(name string, v []int64) string {
	name = b.unique(name)
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: &name, DataType: proto.Int32(int32(pb.TensorProto_INT64)), Dims: []int64{int64(len(v))}, Int64Data: v})
	return name
}

// boolInitializer adds a bool vector (stored, as ONNX says, in int32_data)
// and returns its name.
func (b *builder) boolInitializer(name string, v []bool) string {
	name = b.unique(name)
	d := make([]int32, len(v))
	for i, t := range v {
		if t {
			d[i] = 1
		}
	}
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: &name, DataType: proto.Int32(int32(pb.TensorProto_BOOL)), Dims: []int64{int64(len(v))}, Int32Data: d})
	return name
}

// targetNodes maps a regression model's outputs back to the target's
// units when its table's preprocessing scaled the targets
// (data.Preprocess.UnscaleOutput, as predict prints them): y = (out −
// shift)/scale, a Mul by 1/scale and an Add of −shift/scale per output,
// tensors of shape [outputs] that broadcast over the batch.
func targetNodes[T num.Float](b *builder, c *checkpoint.Checkpoint[T], outputs int) error {
	p := c.Preprocess
	if p == nil || p.TargetScale == nil {
		return nil
	}
	if len(p.TargetScale) != outputs || len(p.TargetShift) != outputs {
		return fmt.Errorf("onnx: the target scaling has %d scales and %d shifts, the model %d outputs", len(p.TargetScale), len(p.TargetShift), outputs)
	}
	mul, add := make([]float32, outputs), make([]float32, outputs)
	for k := range outputs {
		mul[k] = float32(1 / p.TargetScale[k])
		add[k] = float32(-p.TargetShift[k] / p.TargetScale[k])
	}
	b.node("Mul", "target.unscale", []string{b.cur, b.initializer("target.unscale", []int{outputs}, mul)})
	b.node("Add", "target.unshift", []string{b.cur, b.initializer("target.unshift", []int{outputs}, add)})
	return nil
}
