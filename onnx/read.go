package onnx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "github.com/ptrain/ptrain/onnx/internal/onnxpb"
)

// MaxFileSize is the largest file ReadFile reads: protocol buffers' own
// limit of 2 GiB (larger ONNX models keep their weights in external files).
const MaxFileSize = 2<<30 - 1

// Summary is what an ONNX model says about itself: the figures `ptrain
// info` prints.
type Summary struct {
	IRVersion       int64
	Opsets          []Opset // opset_import, in file order
	ProducerName    string
	ProducerVersion string
	Inputs, Outputs []Value // graph inputs that are not initializers; graph outputs
	Operators       []OpCount
	Nodes           int
	Initializers    int
	Weights         int64 // elements in all initializers
	Metadata        []KV  // metadata_props, in file order
}

// Opset is one opset_import entry; Domain "" is the default (ai.onnx).
type Opset struct {
	Domain  string
	Version int64
}

// Value is a graph input or output: its name, element type (float32, …)
// and dimensions, each a number or a symbolic name ("batch"); "?" for a
// dimension or type the file does not give.
type Value struct {
	Name     string
	ElemType string
	Dims     []string
}

// String writes the value as input float32[batch,1,8,8].
func (v Value) String() string {
	return v.Name + " " + v.ElemType + "[" + strings.Join(v.Dims, ",") + "]"
}

// OpCount is an operator (domain-qualified unless of the default domain)
// and how many nodes use it.
type OpCount struct {
	Op    string
	Count int
}

// KV is one metadata_props entry.
type KV struct{ Key, Value string }

// ReadFile reads and parses the ONNX model at path. Anything but a
// regular file (a device such as /dev/zero, a pipe, a directory) is
// refused before it is read, and so is a file over MaxFileSize. Errors
// name the file.
func ReadFile(path string) (*Summary, error) {
	// Stat first: opening a FIFO would wait for a writer.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes, more than the 2 GiB a protocol buffer holds: not an ONNX model this reads", path, fi.Size())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One byte past the size: a file that grows meanwhile cannot grow the
	// buffer without bound.
	b, err := io.ReadAll(io.LimitReader(f, fi.Size()+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > fi.Size() {
		return nil, fmt.Errorf("%s: the file grew while it was read", path)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ErrNotONNX is wrapped by Parse's errors for bytes that are not an ONNX
// model at all.
var ErrNotONNX = errors.New("not an ONNX model")

// Parse decodes an ONNX ModelProto and summarises it. Bytes that do not
// decode, or decode to a model without an IR version or a graph, are
// refused with an error wrapping ErrNotONNX.
func Parse(b []byte) (*Summary, error) {
	var m pb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotONNX, err)
	}
	if m.IrVersion == nil || m.Graph == nil {
		return nil, fmt.Errorf("%w: no ir_version or no graph", ErrNotONNX)
	}
	s := &Summary{IRVersion: m.GetIrVersion(), ProducerName: m.GetProducerName(), ProducerVersion: m.GetProducerVersion()}
	for _, o := range m.OpsetImport {
		s.Opsets = append(s.Opsets, Opset{Domain: o.GetDomain(), Version: o.GetVersion()})
	}
	g := m.Graph
	isInit := map[string]bool{}
	for _, t := range g.Initializer {
		isInit[t.GetName()] = true
		s.Weights = satAdd(s.Weights, elements(t.Dims))
	}
	s.Initializers = len(g.Initializer)
	for _, v := range g.Input {
		if !isInit[v.GetName()] { // IR < 4 lists initializers among the inputs
			s.Inputs = append(s.Inputs, value(v))
		}
	}
	for _, v := range g.Output {
		s.Outputs = append(s.Outputs, value(v))
	}
	index := map[string]int{}
	for _, n := range g.Node {
		op := n.GetOpType()
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			op = d + "." + op
		}
		i, ok := index[op]
		if !ok {
			i = len(s.Operators)
			index[op] = i
			s.Operators = append(s.Operators, OpCount{Op: op})
		}
		s.Operators[i].Count++
	}
	s.Nodes = len(g.Node)
	for _, kv := range m.MetadataProps {
		s.Metadata = append(s.Metadata, KV{kv.GetKey(), kv.GetValue()})
	}
	return s, nil
}

// value summarises a ValueInfoProto; only tensor types are spelled out.
func value(v *pb.ValueInfoProto) Value {
	out := Value{Name: v.GetName(), ElemType: "?"}
	tt := v.GetType().GetTensorType()
	if tt == nil {
		return out
	}
	if tt.ElemType != nil {
		out.ElemType = elemType(tt.GetElemType())
	}
	for _, d := range tt.GetShape().GetDim() {
		switch x := d.Value.(type) {
		case *pb.TensorShapeProto_Dimension_DimValue:
			out.Dims = append(out.Dims, strconv.FormatInt(x.DimValue, 10))
		case *pb.TensorShapeProto_Dimension_DimParam:
			out.Dims = append(out.Dims, x.DimParam)
		default:
			out.Dims = append(out.Dims, "?")
		}
	}
	return out
}

// elemType names a TensorProto data type as numpy does (float32, int64).
func elemType(t int32) string {
	name, ok := pb.TensorProto_DataType_name[t]
	if !ok {
		return "type" + strconv.Itoa(int(t))
	}
	switch name {
	case "FLOAT":
		return "float32"
	case "DOUBLE":
		return "float64"
	}
	return strings.ToLower(name)
}

// elements is the product of dims (negative ones count as 0), saturated
// at math.MaxInt64: a hostile file's dimensions may overflow it.
func elements(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		d = max(d, 0)
		if d != 0 && n > math.MaxInt64/d {
			return math.MaxInt64
		}
		n *= d
	}
	return n
}

// satAdd is a + b for non-negative a and b, saturated at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
