package onnx

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/model/safetensors"
	pb "github.com/ptrain/ptrain/onnx/internal/onnxpb"
)

// The versions Encode writes: IR 7 with opset 13 of the default domain,
// which onnx 1.12's checker and onnxruntime 1.7 and later accept.
const (
	IRVersion    = 7
	OpsetVersion = 13
)

// The graph's input and output names.
const (
	InputName  = "input"
	OutputName = "output"
)

// Options change what Encode writes. The zero value is the plain export.
type Options struct {
	// FoldBatchNorm folds each batch norm that directly follows a conv or
	// dense layer without an activation, and is the only reader of that
	// layer's output, into the layer's weight and bias, instead of a
	// BatchNormalization node. One whose layer's output also feeds a
	// residual block (its identity shortcut, or the other branch) stays a
	// node, as does one that follows anything else.
	FoldBatchNorm bool
	// ProducerVersion is the model's producer_version (the program's
	// version); empty leaves it out.
	ProducerVersion string
	// Meta is added to metadata_props after the checkpoint's own; a key the
	// checkpoint has is refused.
	Meta map[string]string
}

// Encode builds the ONNX model of c (see the package doc) and returns its
// bytes. c is read, not changed; a float64 model is rounded to float32.
func Encode[T num.Float](c *checkpoint.Checkpoint[T], opt Options) ([]byte, error) {
	mp, err := build(c, opt)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("onnx: encoding the model: %w", err)
	}
	return b, nil
}

// Write writes c's ONNX model to w; nothing is written if Encode fails.
func Write[T num.Float](w io.Writer, c *checkpoint.Checkpoint[T], opt Options) error {
	b, err := Encode(c, opt)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Save writes c's ONNX model to path atomically (safetensors.WriteFileAtomic):
// a crash mid-write leaves the previous file as it was.
func Save[T num.Float](path string, c *checkpoint.Checkpoint[T], opt Options) error {
	b, err := Encode(c, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return safetensors.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// builder accumulates a graph: nodes in order, initializers, and the
// name of the value the next node reads (cur). in holds the values of
// all the current layer's inputs, for a layer that reads several (a
// residual block's sum); cur is the first.
type builder struct {
	g     *pb.GraphProto
	cur   string
	in    []string
	names map[string]bool
}

// node appends an op reading in and writing a new value named after name
// (name, or name_2, … if taken), which becomes cur.
func (b *builder) node(op, name string, in []string, attrs ...*pb.AttributeProto) {
	out := b.unique(name)
	b.g.Node = append(b.g.Node, &pb.NodeProto{OpType: &op, Name: proto.String(out), Input: in, Output: []string{out}, Attribute: attrs})
	b.cur = out
}

// initializer adds a float32 tensor of the given shape and returns its name.
func (b *builder) initializer(name string, shape []int, v []float32) string {
	name = b.unique(name)
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{Name: &name, DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: dims, FloatData: v})
	return name
}

func (b *builder) unique(name string) string {
	n := name
	for i := 2; b.names[n]; i++ {
		n = name + "_" + strconv.Itoa(i)
	}
	b.names[n] = true
	return n
}

// valueInfo is a float32 value of shape (batch, dims...).
func valueInfo(name string, dims []int) *pb.ValueInfoProto {
	shape := &pb.TensorShapeProto{Dim: []*pb.TensorShapeProto_Dimension{{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}}}}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &pb.ValueInfoProto{Name: &name, Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
		ElemType: proto.Int32(int32(pb.TensorProto_FLOAT)), Shape: shape}}}}
}

func build[T num.Float](c *checkpoint.Checkpoint[T], opt Options) (*pb.ModelProto, error) {
	if c == nil || c.Model == nil {
		return nil, fmt.Errorf("onnx: no model to export")
	}
	m := c.Model
	lay := &m.Layout
	in := []int{m.Spec.Inputs}
	if len(m.Spec.Shape) == 3 {
		in = slices.Clone(m.Spec.Shape)
	}
	b := &builder{g: &pb.GraphProto{Name: proto.String("ptrain")}, cur: InputName, names: map[string]bool{InputName: true, OutputName: true}}
	b.g.Input = []*pb.ValueInfoProto{valueInfo(InputName, in)}
	b.g.DocString = proto.String(m.Spec.String())
	if err := imputeNodes(b, c); err != nil {
		return nil, err
	}
	if err := transformNodes(b, c, in); err != nil {
		return nil, err
	}
	// outs[i] is the value holding layer i's output after its activation;
	// each layer reads the values of its LayerInfo.Inputs (−1: the input
	// after the transform), so a residual block's branches both start from
	// the value the block reads and its sum adds the two branches' ends.
	outs := make([]string, len(lay.Layers))
	src := b.cur
	value := func(in int) string {
		if in < 0 {
			return src
		}
		return outs[in]
	}
	for i := 0; i < len(lay.Layers); i++ {
		l := &lay.Layers[i]
		emit, ok := layerNodes[l.Spec.Kind]
		if !ok {
			return nil, fmt.Errorf("onnx: layer %d (%s): no ONNX form for this kind of layer yet", i, l.Spec)
		}
		b.cur = value(l.Inputs[0])
		b.in = b.in[:0]
		for _, in := range l.Inputs {
			b.in = append(b.in, value(in))
		}
		t := tensorsOf(m, l)
		act, last := l.Spec.Act, i
		if opt.FoldBatchNorm && foldable(lay, i) {
			bn := &lay.Layers[i+1]
			fw, fb := foldBatchNorm(t.params[0], t.params[1], tensorsOf(m, bn))
			ft := layerTensors{params: [][]float32{fw, fb}}
			if err := emit(b, l, ft); err != nil {
				return nil, err
			}
			act, last = bn.Spec.Act, i+1 // the batch norm is in the weights
		} else if err := emit(b, l, t.f32()); err != nil {
			return nil, err
		}
		emitAct, ok := actNodes[act.Kind]
		if !ok {
			return nil, fmt.Errorf("onnx: layer %d (%s): no ONNX form for activation %v yet", i, l.Spec, act)
		}
		emitAct(b, act, last)
		outs[i] = b.cur
		i = last
		outs[i] = b.cur
	}
	last := lay.Layers[len(lay.Layers)-1].Out
	if len(last) != 1 { // predict prints C·H·W values per row, in this order
		b.node("Flatten", "flatten.output", []string{b.cur}, intAttr("axis", 1))
	}
	if err := targetNodes(b, c, last.Size()); err != nil {
		return nil, err
	}
	// The last node writes the graph's output under its public name.
	lastNode := b.g.Node[len(b.g.Node)-1]
	lastNode.Output[0] = OutputName
	b.g.Output = []*pb.ValueInfoProto{valueInfo(OutputName, []int{last.Size()})}

	meta, err := metadata(c, opt.Meta)
	if err != nil {
		return nil, err
	}
	mp := &pb.ModelProto{
		IrVersion:     proto.Int64(IRVersion),
		OpsetImport:   []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(OpsetVersion)}},
		ProducerName:  proto.String("ptrain"),
		Graph:         b.g,
		DocString:     proto.String("exported by ptrain from " + m.Spec.String()),
		MetadataProps: meta,
	}
	if opt.ProducerVersion != "" {
		mp.ProducerVersion = proto.String(opt.ProducerVersion)
	}
	return mp, nil
}

// transformNodes adds the feature transform x·scale + shift, per feature
// of the flat row, as Mul and Add by tensors of the sample's shape (which
// broadcast over the batch). A scale of all ones or a shift of all zeros
// adds no node.
func transformNodes[T num.Float](b *builder, c *checkpoint.Checkpoint[T], shape []int) error {
	tf := c.Transform
	n := c.Model.Spec.Inputs
	for _, v := range []struct {
		name, op string
		vals     []float64
		skip     float64
	}{{"data.scale", "Mul", tf.Scale, 1}, {"data.shift", "Add", tf.Shift, 0}} {
		if v.vals == nil || !slices.ContainsFunc(v.vals, func(x float64) bool { return x != v.skip }) {
			continue
		}
		if len(v.vals) != n {
			return fmt.Errorf("onnx: %s has %d values, the model takes %d features", v.name, len(v.vals), n)
		}
		f := make([]float32, n)
		for i, x := range v.vals {
			f[i] = float32(x)
		}
		name := b.initializer(v.name, shape, f)
		b.node(v.op, v.name, []string{b.cur, name})
	}
	return nil
}

// tensorsOf copies layer l's tensors out of m's buffers, in float64.
func tensorsOf[T num.Float](m *model.Model[T], l *model.LayerInfo) layerTensorsF64 {
	get := func(buf []T, ts []model.TensorInfo) [][]float64 {
		var out [][]float64
		for _, t := range ts {
			v := make([]float64, t.Size())
			for i := range v {
				v[i] = float64(buf[t.Offset+i])
			}
			out = append(out, v)
		}
		return out
	}
	return layerTensorsF64{params: get(m.Params, l.Params), buffers: get(m.Buffers, l.Buffers)}
}

// metadata is the checkpoint's metadata as checkpoint.Encode writes it
// in a checkpoint file (less "format", safetensors' own), with extra
// added; sorted by key. Encode's checks refuse a checkpoint that could not
// be read back.
func metadata[T num.Float](c *checkpoint.Checkpoint[T], extra map[string]string) ([]*pb.StringStringEntryProto, error) {
	f, err := checkpoint.Encode(c)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	meta := f.Metadata
	delete(meta, "format")
	for k, v := range extra {
		if _, taken := meta[k]; taken {
			return nil, fmt.Errorf("onnx: metadata key %q given twice", k)
		}
		meta[k] = v
	}
	var out []*pb.StringStringEntryProto
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		out = append(out, &pb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(meta[k])})
	}
	return out, nil
}
