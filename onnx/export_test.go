package onnx

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	pb "github.com/ptrain/ptrain/onnx/internal/onnxpb"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
)

// allLayersArch has every layer kind, every activation, dropout and batch
// norm of both shapes.
const allLayersArch = "1x8x8-conv(6,3,pad=1)-bn:relu-maxpool(2)-conv(5,2,stride=1):tanh-avgpool(2,stride=1)-flatten-12:leakyrelu(0.2):dropout=0.1-bn-9:sigmoid-7-5:softmax"

// resArch is a small ResNet: a stem, a block with an identity shortcut,
// a strided block with a projection shortcut, batch norms inside both
// branches, global average pooling.
const resArch = "1x8x8-conv(4,3,pad=1)-bn:relu-res(conv(4,3,pad=1)-bn:relu-conv(4,3,pad=1)-bn):relu-res(conv(6,3,stride=2,pad=1)-bn:relu-conv(6,3,pad=1)-bn|conv(6,1,stride=2)-bn):relu-gap-3:softmax"

// testModel is a model of arch with every parameter and batch norm's
// running statistics drawn at random (not at their initial 1 and 0), so
// that a transposed or swapped tensor shows. Weights have standard
// deviation sqrt(2/fan in), the others 0.5, so that activations stay
// of order one through a deep ResNet, as a trained model's do, and an
// absolute tolerance means the same at every depth.
func testModel[T num.Float](t testing.TB, arch string, seed uint64) *model.Model[T] {
	t.Helper()
	m, err := model.New[T](model.MustParseSpec(arch), seed)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	for _, l := range m.Layout.Layers {
		for _, ti := range l.Params {
			sd := 0.5
			if ti.Role == model.RoleWeight {
				sd = math.Sqrt(2 / float64(l.FanIn))
			}
			for i := ti.Offset; i < ti.Offset+ti.Size(); i++ {
				m.Params[i] = T(r.NormFloat64() * sd)
			}
		}
		if l.Spec.Kind != model.KindBatchNorm {
			continue
		}
		mean, vr := l.Buffers[0], l.Buffers[1]
		for c := 0; c < mean.Size(); c++ {
			m.Buffers[mean.Offset+c] = T(r.NormFloat64())
			m.Buffers[vr.Offset+c] = T(0.2 + 2*r.Float64())
		}
	}
	return m
}

// TestEncodeNodesPerLayer: each spec becomes the nodes the package doc
// lists, in order, between an input and an output of the right shapes.
func TestEncodeNodesPerLayer(t *testing.T) {
	for _, tc := range []struct {
		arch      string
		transform bool
		fold      bool
		ops       string
		in, out   string
	}{
		{"4-8:sigmoid-3:softmax", false, false, "Gemm Sigmoid Gemm Softmax", "input float32[batch,4]", "output float32[batch,3]"},
		{"4-8:sigmoid-3:softmax", true, false, "Mul Add Gemm Sigmoid Gemm Softmax", "input float32[batch,4]", "output float32[batch,3]"},
		{"3-5:tanh:dropout=0.5-2", false, false, "Gemm Tanh Gemm", "input float32[batch,3]", "output float32[batch,2]"},
		{allLayersArch, false, false, "Conv BatchNormalization Relu MaxPool Conv Tanh AveragePool Flatten Gemm LeakyRelu BatchNormalization Gemm Sigmoid Gemm Gemm Softmax", "input float32[batch,1,8,8]", "output float32[batch,5]"},
		{allLayersArch, true, true, "Mul Add Conv Relu MaxPool Conv Tanh AveragePool Flatten Gemm LeakyRelu BatchNormalization Gemm Sigmoid Gemm Gemm Softmax", "input float32[batch,1,8,8]", "output float32[batch,5]"},
		{"6-4-bn:relu-2", false, true, "Gemm Relu Gemm", "input float32[batch,6]", "output float32[batch,2]"},
		{"2x5x5-conv(3,3)-maxpool(3)", false, false, "Conv MaxPool Flatten", "input float32[batch,2,5,5]", "output float32[batch,3]"},
		{"4-bn", false, true, "BatchNormalization", "input float32[batch,4]", "output float32[batch,4]"},
		// Residual blocks: each branch's nodes, then Add and the block's
		// activation. A batch norm folds where its conv or dense layer has
		// no other reader; one whose layer also feeds an identity shortcut
		// or a sum stays.
		{"4-res(5:relu-4):tanh:dropout=0.5-2", false, false, "Gemm Relu Gemm Add Tanh Gemm", "input float32[batch,4]", "output float32[batch,2]"},
		{resArch, false, false, "Conv BatchNormalization Relu Conv BatchNormalization Relu Conv BatchNormalization Add Relu Conv BatchNormalization Relu Conv BatchNormalization Conv BatchNormalization Add Relu GlobalAveragePool Flatten Gemm Softmax", "input float32[batch,1,8,8]", "output float32[batch,3]"},
		{resArch, true, true, "Mul Add Conv Relu Conv Relu Conv Add Relu Conv Relu Conv Conv Add Relu GlobalAveragePool Flatten Gemm Softmax", "input float32[batch,1,8,8]", "output float32[batch,3]"},
		{"1x4x4-conv(2,3,pad=1)-res(bn:relu-conv(2,3,pad=1)-res(conv(2,1)-bn|bn))", false, true, "Conv BatchNormalization Relu Conv Conv BatchNormalization Add Add Flatten", "input float32[batch,1,4,4]", "output float32[batch,32]"},
		{"4-3-res(bn)-res(5-3-bn)", false, true, "Gemm BatchNormalization Add Gemm Gemm Add", "input float32[batch,4]", "output float32[batch,3]"},
		{"2x3x3-gap", false, false, "GlobalAveragePool Flatten", "input float32[batch,2,3,3]", "output float32[batch,2]"},
	} {
		m := testModel[float32](t, tc.arch, 1)
		c := &checkpoint.Checkpoint[float32]{Model: m}
		if tc.transform {
			c.Transform = transformFor(m.Spec.Inputs)
		}
		b, err := Encode(c, Options{FoldBatchNorm: tc.fold})
		if err != nil {
			t.Fatalf("%s: %v", tc.arch, err)
		}
		s, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.arch, err)
		}
		var ops []string
		for _, o := range s.Operators {
			for range o.Count {
				ops = append(ops, o.Op)
			}
		}
		// Operators counts each op once in order of first use; the graph's
		// order is checked through the node names below.
		want := strings.Fields(tc.ops)
		if !sameMultiset(ops, want) || s.Nodes != len(want) {
			t.Errorf("%s (fold %v): operators %v, want %v", tc.arch, tc.fold, s.Operators, want)
		}
		if len(s.Inputs) != 1 || s.Inputs[0].String() != tc.in || len(s.Outputs) != 1 || s.Outputs[0].String() != tc.out {
			t.Errorf("%s: inputs %v outputs %v, want %s and %s", tc.arch, s.Inputs, s.Outputs, tc.in, tc.out)
		}
		if s.IRVersion != IRVersion || len(s.Opsets) != 1 || s.Opsets[0] != (Opset{"", OpsetVersion}) || s.ProducerName != "ptrain" {
			t.Errorf("%s: IR %d, opsets %v, producer %q", tc.arch, s.IRVersion, s.Opsets, s.ProducerName)
		}
		mp, _ := build(c, Options{FoldBatchNorm: tc.fold})
		var order []string
		for _, n := range mp.Graph.Node {
			order = append(order, n.GetOpType())
		}
		if !slices.Equal(order, want) {
			t.Errorf("%s (fold %v): nodes %v, want %v", tc.arch, tc.fold, order, want)
		}
	}
}

// TestEncodeResidualWiring: both branches of a block read the value the
// block reads, and its Add reads the ends of the two branches (the
// block's input for an identity shortcut), folded or not.
func TestEncodeResidualWiring(t *testing.T) {
	for _, tc := range []struct {
		arch string
		fold bool
		want map[string]string // node output: its inputs that are not initializers
	}{
		{resArch, false, map[string]string{
			"conv.1": "relu.1", "res.6": "bn.2 relu.1", "relu.6": "res.6",
			"conv.3": "relu.6", "conv.5": "relu.6", "res.13": "bn.4 bn.5", "gap.14": "relu.13"}},
		{resArch, true, map[string]string{
			"conv.1": "relu.1", "res.6": "conv.2 relu.1", "conv.3": "relu.6", "conv.5": "relu.6", "res.13": "conv.4 conv.5"}},
		{"3-res(4:relu-res(4:tanh-4|4)-3)-2", false, map[string]string{
			"dense.0": "input", "dense.1": "relu.0", "dense.3": "relu.0", "res.4": "dense.2 dense.3", "dense.4": "res.4", "res.6": "dense.4 input", "output": "res.6"}},
	} {
		m := testModel[float32](t, tc.arch, 1)
		mp, err := build(&checkpoint.Checkpoint[float32]{Model: m}, Options{FoldBatchNorm: tc.fold})
		if err != nil {
			t.Fatal(err)
		}
		init := map[string]bool{}
		for _, in := range mp.Graph.Initializer {
			init[in.GetName()] = true
		}
		got := map[string]string{}
		for _, n := range mp.Graph.Node {
			var in []string
			for _, v := range n.Input {
				if !init[v] {
					in = append(in, v)
				}
			}
			got[n.Output[0]] = strings.Join(in, " ")
		}
		for out, in := range tc.want {
			if got[out] != in {
				t.Errorf("%s (fold %v): %s reads %q, want %q", tc.arch, tc.fold, out, got[out], in)
			}
		}
	}
}

func sameMultiset(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// transformFor is a transform with no scale of 1 and no shift of 0, so
// that both nodes are written.
func transformFor(n int) data.Transform {
	tf := data.Transform{Scale: make([]float64, n), Shift: make([]float64, n)}
	for j := range tf.Scale {
		tf.Scale[j] = 0.25 + float64(j%5)/8
		tf.Shift[j] = -0.5 + float64(j%3)/4
	}
	return tf
}

// TestEncodeKeepsWeights: the initializers are the model's tensors, under
// its names, rounded to float32 from a float64 model.
func TestEncodeKeepsWeights(t *testing.T) {
	m := testModel[float64](t, "1x4x4-conv(2,3)-bn:relu-flatten-3:softmax", 2)
	mp, err := build(&checkpoint.Checkpoint[float64]{Model: m}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]float32{}
	for _, in := range mp.Graph.Initializer {
		got[in.GetName()] = in.FloatData
	}
	for _, l := range m.Layout.Layers {
		for _, ti := range append(slices.Clone(l.Params), l.Buffers...) {
			if strings.HasSuffix(ti.Name, "num_batches_tracked") {
				if _, ok := got[ti.Name]; ok {
					t.Errorf("%s exported", ti.Name)
				}
				continue
			}
			buf := m.Params
			if !ti.Trainable {
				buf = m.Buffers
			}
			v, ok := got[ti.Name]
			if !ok || len(v) != ti.Size() {
				t.Fatalf("initializer %s: %d values, want %d", ti.Name, len(v), ti.Size())
			}
			for i := range v {
				if v[i] != float32(buf[ti.Offset+i]) {
					t.Fatalf("%s[%d] = %v, want %v", ti.Name, i, v[i], float32(buf[ti.Offset+i]))
				}
			}
		}
	}
}

// TestFoldBatchNormComputesTheSame: a model whose batch norms are folded
// into the conv and dense layers before them (foldBatchNorm's weights
// loaded into the same spec without the batch norms) predicts what the
// model with them predicts, in float64.
func TestFoldBatchNormComputesTheSame(t *testing.T) {
	withBN := testModel[float64](t, "2x7x7-conv(4,3,stride=2,pad=1)-bn:relu-maxpool(2)-flatten-6:dropout=0.2-bn:tanh-3:softmax", 3)
	without, err := model.NewZero[float64](model.MustParseSpec("2x7x7-conv(4,3,stride=2,pad=1):relu-maxpool(2)-flatten-6:tanh-3:softmax"))
	if err != nil {
		t.Fatal(err)
	}
	lay := &withBN.Layout
	j := 0 // layer of without
	for i := 0; i < len(lay.Layers); i, j = i+1, j+1 {
		l := &lay.Layers[i]
		if len(l.Params) == 0 {
			continue
		}
		t64 := tensorsOf(withBN, l)
		w, b := t64.params[0], t64.params[1]
		var fw, fb []float32
		if foldable(lay, i) {
			fw, fb = foldBatchNorm(w, b, tensorsOf(withBN, &lay.Layers[i+1]))
			i++
		} else {
			ft := t64.f32()
			fw, fb = ft.params[0], ft.params[1]
		}
		dst := without.Layout.Layers[j]
		for k, v := range fw {
			without.Params[dst.Params[0].Offset+k] = float64(v)
		}
		for k, v := range fb {
			without.Params[dst.Params[1].Offset+k] = float64(v)
		}
	}
	if j != len(without.Layout.Layers) {
		t.Fatalf("folded %d layers into %d", j, len(without.Layout.Layers))
	}
	// The folded weights are float32: compare with the float32 model.
	ref := model.Convert[float64](model.Convert[float32](withBN))
	x := make([]float64, 5*withBN.Spec.Inputs)
	r := rand.New(rand.NewPCG(4, 4))
	for i := range x {
		x[i] = r.NormFloat64()
	}
	a, b := ref.Predict(x, 5), without.Predict(x, 5)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-5 {
			t.Fatalf("output %d: %v with batch norm, %v folded", i, a[i], b[i])
		}
	}
}

// TestEncodeRefusesAKindItCannotWrite: a layer kind without an entry in
// layerNodes is an error naming the layer, not a graph without it.
func TestEncodeRefusesAKindItCannotWrite(t *testing.T) {
	saved := layerNodes[model.KindFlatten]
	delete(layerNodes, model.KindFlatten)
	defer func() { layerNodes[model.KindFlatten] = saved }()
	m := testModel[float32](t, "1x4x4-conv(2,3)-flatten-3", 1)
	_, err := Encode(&checkpoint.Checkpoint[float32]{Model: m}, Options{})
	if err == nil || !strings.Contains(err.Error(), "layer 1 (flatten)") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Encode[float32](nil, Options{}); err == nil {
		t.Fatal("nil checkpoint encoded")
	}
}

// TestEncodeMetadata: the checkpoint's metadata, as its file has it, in
// metadata_props; a key given twice is refused.
func TestEncodeMetadata(t *testing.T) {
	m := testModel[float32](t, "4-3:softmax", 1)
	opt, _ := optim.New[float32](optim.Defaults(optim.Adam), len(m.Params))
	c := &checkpoint.Checkpoint[float32]{Model: m, Optimizer: opt, Task: new(data.Classification), Classes: []string{"setosa", "versicolor", "virginica"},
		Progress: parallel.Progress{Epoch: 3, BestValLoss: math.Inf(1)}, Meta: map[string]string{"ptrain.version": "9.9"}}
	b, err := Encode(c, Options{Meta: map[string]string{"ptrain.dtype": "F32"}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := Parse(b)
	got := map[string]string{}
	for _, kv := range s.Metadata {
		got[kv.Key] = kv.Value
	}
	want := map[string]string{
		"ptrain.arch": "4-3:softmax", "ptrain.task": "classification", "ptrain.classes": `["setosa","versicolor","virginica"]`,
		"ptrain.progress": `{"epoch":3,"batch":0,"step":0,"best_val_loss":null,"best_epoch":0,"bad_epochs":0}`,
		"ptrain.version":  "9.9", "ptrain.dtype": "F32",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if !strings.Contains(got["ptrain.optimizer"], `"method":"adam"`) {
		t.Errorf("ptrain.optimizer = %q", got["ptrain.optimizer"])
	}
	if _, err := Encode(c, Options{Meta: map[string]string{"ptrain.version": "1"}}); err == nil || !strings.Contains(err.Error(), `"ptrain.version" given twice`) {
		t.Errorf("a key given twice: %v", err)
	}
}

// A regression model of a table whose targets were standardised ends in
// a Mul and an Add that map its outputs back to the target's units, as
// predict prints them (data.Preprocess.UnscaleOutput); the constants are
// 1/scale and −shift/scale.
func TestEncodeUnscalesTableTargets(t *testing.T) {
	m := testModel[float32](t, "3-4:tanh-2", 1)
	p := &data.Preprocess{Columns: []data.PrepColumn{{Index: 0}, {Index: 1}, {Index: 2}}, TargetScale: []float64{0.5, 0.001}, TargetShift: []float64{-1, 2}}
	c := &checkpoint.Checkpoint[float32]{Model: m, Task: new(data.Regression), Preprocess: p}
	b, err := Encode(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mp := &pb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range mp.Graph.Node {
		ops = append(ops, n.GetOpType())
	}
	if got := strings.Join(ops, " "); got != "Gemm Tanh Gemm Mul Add" {
		t.Fatalf("nodes %s, want Gemm Tanh Gemm Mul Add", got)
	}
	consts := map[string][]float32{}
	for _, in := range mp.Graph.Initializer {
		consts[in.GetName()] = in.FloatData
	}
	for name, want := range map[string][]float32{"target.unscale": {2, 1000}, "target.unshift": {2, -2000}} {
		if !slices.Equal(consts[name], want) {
			t.Errorf("%s = %v, want %v", name, consts[name], want)
		}
	}
	if last := mp.Graph.Node[len(mp.Graph.Node)-1]; last.Output[0] != OutputName {
		t.Errorf("the last node writes %q, want %q", last.Output[0], OutputName)
	}
	// For an output of 0.5, each constant pair is UnscaleOutput.
	for k := range 2 {
		if got, want := 0.5*float64(consts["target.unscale"][k])+float64(consts["target.unshift"][k]), p.UnscaleOutput(k, 0.5); math.Abs(got-want) > 1e-3 {
			t.Errorf("output %d: 0.5 maps to %g, UnscaleOutput %g", k, got, want)
		}
	}
}
