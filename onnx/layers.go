package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/ptrain/ptrain/model"
	pb "github.com/ptrain/ptrain/onnx/internal/onnxpb"
)

// layerNodes maps each layer kind to the nodes it becomes: the one place
// that knows ONNX's operators for ptrain's layers. A kind missing here is
// refused by Encode with an error that names it, so a new kind of layer
// is one entry more. Each function gets the layer's place in the layout
// and its tensors (float32, ptrain's layouts, which are ONNX's) and
// appends its nodes to b, reading b.cur (b.in for a layer with several
// inputs) and leaving b.cur at its output.
var layerNodes = map[model.LayerKind]func(b *builder, l *model.LayerInfo, t layerTensors) error{
	model.KindDense: func(b *builder, l *model.LayerInfo, t layerTensors) error {
		// x is (batch, In), the weight (Out, In) as nn.Linear's: y = x·Wᵀ + b.
		w, bias := b.initializer(l.Params[0].Name, l.Params[0].Shape, t.params[0]), b.initializer(l.Params[1].Name, l.Params[1].Shape, t.params[1])
		b.node("Gemm", l.Name, []string{b.cur, w, bias}, intAttr("transB", 1))
		return nil
	},
	model.KindConv: func(b *builder, l *model.LayerInfo, t layerTensors) error {
		k, s, p := int64(l.Spec.Kernel), int64(stride(l.Spec)), int64(l.Spec.Pad)
		w, bias := b.initializer(l.Params[0].Name, l.Params[0].Shape, t.params[0]), b.initializer(l.Params[1].Name, l.Params[1].Shape, t.params[1])
		b.node("Conv", l.Name, []string{b.cur, w, bias},
			intsAttr("kernel_shape", k, k), intsAttr("strides", s, s), intsAttr("pads", p, p, p, p))
		return nil
	},
	model.KindMaxPool: func(b *builder, l *model.LayerInfo, _ layerTensors) error {
		k, s := int64(l.Spec.Kernel), int64(stride(l.Spec))
		b.node("MaxPool", fmt.Sprintf("maxpool.%d", l.Index), []string{b.cur}, intsAttr("kernel_shape", k, k), intsAttr("strides", s, s))
		return nil
	},
	model.KindAvgPool: func(b *builder, l *model.LayerInfo, _ layerTensors) error {
		// No padding, so count_include_pad does not matter: every window
		// averages K·K values, as ptrain's does.
		k, s := int64(l.Spec.Kernel), int64(stride(l.Spec))
		b.node("AveragePool", fmt.Sprintf("avgpool.%d", l.Index), []string{b.cur}, intsAttr("kernel_shape", k, k), intsAttr("strides", s, s))
		return nil
	},
	model.KindBatchNorm: func(b *builder, l *model.LayerInfo, t layerTensors) error {
		// Inference form over dimension 1, channels of (batch, C, H, W) or
		// features of (batch, F): y = γ·(x − running_mean)/sqrt(running_var + ε) + β.
		in := []string{b.cur}
		for i, p := range l.Params { // weight (γ), bias (β)
			in = append(in, b.initializer(p.Name, p.Shape, t.params[i]))
		}
		for i, p := range l.Buffers[:2] { // running_mean, running_var; not num_batches_tracked
			in = append(in, b.initializer(p.Name, p.Shape, t.buffers[i]))
		}
		b.node("BatchNormalization", l.Name, in, floatAttr("epsilon", model.BatchNormEps))
		return nil
	},
	model.KindGAP: func(b *builder, l *model.LayerInfo, _ layerTensors) error {
		// (batch, C, H, W) to (batch, C, 1, 1), then to (batch, C).
		b.node("GlobalAveragePool", fmt.Sprintf("gap.%d", l.Index), []string{b.cur})
		b.node("Flatten", fmt.Sprintf("gap.%d.flatten", l.Index), []string{b.cur}, intAttr("axis", 1))
		return nil
	},
	// A residual block's layers are nodes of their own, each reading the
	// value its LayerInfo.Inputs name; the block itself is its sum, an Add
	// of the body's output and the shortcut's (or the block's input), of
	// the same shape, with the block's activation after it.
	model.KindRes: func(b *builder, l *model.LayerInfo, _ layerTensors) error {
		if len(b.in) != 2 {
			return fmt.Errorf("onnx: layer %d (%s): a residual sum of %d values, want 2", l.Index, l.Spec, len(b.in))
		}
		b.node("Add", fmt.Sprintf("res.%d", l.Index), []string{b.in[0], b.in[1]})
		return nil
	},
	model.KindFlatten: func(b *builder, l *model.LayerInfo, _ layerTensors) error {
		b.node("Flatten", fmt.Sprintf("flatten.%d", l.Index), []string{b.cur}, intAttr("axis", 1))
		return nil
	},
}

// actNodes maps each activation to its node; Identity adds none.
var actNodes = map[model.ActKind]func(b *builder, a model.Activation, layer int){
	model.Identity: func(*builder, model.Activation, int) {},
	model.ReLU: func(b *builder, _ model.Activation, i int) {
		b.node("Relu", fmt.Sprintf("relu.%d", i), []string{b.cur})
	},
	model.Sigmoid: func(b *builder, _ model.Activation, i int) {
		b.node("Sigmoid", fmt.Sprintf("sigmoid.%d", i), []string{b.cur})
	},
	model.Tanh: func(b *builder, _ model.Activation, i int) {
		b.node("Tanh", fmt.Sprintf("tanh.%d", i), []string{b.cur})
	},
	model.LeakyReLU: func(b *builder, a model.Activation, i int) {
		b.node("LeakyRelu", fmt.Sprintf("leakyrelu.%d", i), []string{b.cur}, floatAttr("alpha", a.Slope))
	},
	// Softmax over the outputs of each row; the spec only allows it on a
	// flat (batch, K) output.
	model.Softmax: func(b *builder, _ model.Activation, i int) {
		b.node("Softmax", fmt.Sprintf("softmax.%d", i), []string{b.cur}, intAttr("axis", 1))
	},
}

// layerTensors are one layer's tensors in float32, in the order of its
// LayerInfo's Params and Buffers.
type layerTensors struct {
	params, buffers [][]float32
}

// foldable reports whether layer i of lay is a conv or dense layer that a
// batch norm directly follows, with no activation between them (dropout
// is the identity at inference), and whose output nothing else reads:
// folding replaces the layer's output by the batch norm's, so a conv that
// also feeds a residual sum or an identity shortcut keeps its batch norm.
func foldable(lay *model.Layout, i int) bool {
	if i+1 >= len(lay.Layers) {
		return false
	}
	l, next := lay.Layers[i], lay.Layers[i+1]
	if !(l.Spec.Kind == model.KindConv || l.Spec.Kind == model.KindDense) || l.Spec.Act.Kind != model.Identity ||
		next.Spec.Kind != model.KindBatchNorm || !slices.Equal(next.Inputs, []int{i}) {
		return false
	}
	for j := range lay.Layers {
		if j != i+1 && slices.Contains(lay.Layers[j].Inputs, i) {
			return false
		}
	}
	return true
}

// foldBatchNorm folds the batch norm with tensors bn into the weight and
// bias of the layer before it (conv (Out, In, K, K) or dense (Out, In)):
// per output channel o, with a = γ/sqrt(var + ε),
//
//	W'[o, …] = a·W[o, …],  b'[o] = a·(b[o] − mean) + β
//
// computed in float64 from the values the model holds (already float32
// when the model is) and rounded once.
func foldBatchNorm(w, bias []float64, bn layerTensorsF64) (fw, fb []float32) {
	gamma, beta, mean, vr := bn.params[0], bn.params[1], bn.buffers[0], bn.buffers[1]
	out := len(bias)
	per := len(w) / out
	fw, fb = make([]float32, len(w)), make([]float32, out)
	for o := 0; o < out; o++ {
		a := gamma[o] / math.Sqrt(vr[o]+model.BatchNormEps)
		for j := o * per; j < (o+1)*per; j++ {
			fw[j] = float32(a * w[j])
		}
		fb[o] = float32(a*(bias[o]-mean[o]) + beta[o])
	}
	return fw, fb
}

// layerTensorsF64 is layerTensors before rounding to float32.
type layerTensorsF64 struct {
	params, buffers [][]float64
}

func (t layerTensorsF64) f32() layerTensors {
	conv := func(vs [][]float64) [][]float32 {
		out := make([][]float32, len(vs))
		for i, v := range vs {
			out[i] = make([]float32, len(v))
			for j, x := range v {
				out[i][j] = float32(x)
			}
		}
		return out
	}
	return layerTensors{params: conv(t.params), buffers: conv(t.buffers)}
}

// stride is the layer's stride with its default (conv 1, pools the kernel).
func stride(l model.LayerSpec) int {
	switch {
	case l.Stride != 0:
		return l.Stride
	case l.Kind == model.KindConv:
		return 1
	}
	return l.Kernel
}

func intAttr(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: &name, Type: pb.AttributeProto_INT.Enum(), I: &v}
}

func intsAttr(name string, v ...int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: &name, Type: pb.AttributeProto_INTS.Enum(), Ints: v}
}

func floatAttr(name string, v float64) *pb.AttributeProto {
	f := float32(v)
	return &pb.AttributeProto{Name: &name, Type: pb.AttributeProto_FLOAT.Enum(), F: &f}
}
