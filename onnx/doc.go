// Package onnx exports a ptrain checkpoint as an ONNX model, for serving
// with onnxruntime (C++, C#, Java, JavaScript, Python, Go bindings) or any
// other ONNX runtime, and reads back what an ONNX file holds.
//
// # The graph
//
// Encode turns a checkpoint.Checkpoint into one ModelProto (IR version 7,
// opset 13 of the default domain, which onnx 1.12's checker and every
// onnxruntime since 1.7 accept) that computes what `ptrain predict`
// prints after its class column:
//
//	input  float32 [batch, F] or [batch, C, H, W]: the raw rows predict reads
//	       IsNaN, Where,  a table's imputation: NaN filled as predict fills
//	       Cast, Gather,  a missing cell, indicator features set (table.go),
//	       Max, Where     if its preprocessing imputes
//	       Mul, Add       the checkpoint's feature transform (x·scale + shift,
//	                      -normalize's statistics, the digits' 1/16), if any
//	       one or more nodes per layer (see layers.go), then its activation
//	       Mul, Add       a table's target scaling undone (target.unscale,
//	                      target.unshift: 1/scale and −shift/scale), if any
//	output float32 [batch, outputs]: the probabilities (softmax, sigmoid) or
//	       the regression outputs, in the target's units
//
// # Tables
//
// A model of a CSV table (Checkpoint.Preprocess) takes, as its F inputs,
// the features its preprocessing makes, in the order of
// data.Preprocess.FeatureNames (ptrain info and ptrain export list them):
// a number column's value, one 0/1 feature per category of a categorical
// column, a 0/1 indicator after a column that has one; dropped columns
// are not among them. What the graph does of the preprocessing:
//
//   - Imputation, numbers and categories: a missing cell is NaN in the
//     input — a number column's feature, or every feature of a
//     categorical column — and the graph fills it as Apply does (the
//     column's mean, median, most frequent value or zero; a category's
//     one-hot of the most frequent, or all zeros). A NaN in a column
//     trained without imputation stays NaN, so the outputs are NaN where
//     predict refuses the row.
//   - Indicators: the graph sets an indicator to 1 where its column is
//     NaN; the input's indicator feature is otherwise kept, so give 0 (or
//     Apply's rows, indicators set, which pass through unchanged).
//   - The target's standardisation is undone after the model, so outputs
//     are in the target's units as predict prints them.
//
// What it does not do: one-hot encoding. A text category would need a
// string input, and mixing it with numbers a second input; the graph
// keeps one float input instead, so the caller encodes each categorical
// column as its 0/1 features, in the order of its stored categories
// (sorted, in the ptrain.preprocess metadata), all zeros for a category
// the training split did not have (as predict does). Nor does it match
// columns by header name or drop columns: the input is in FeatureNames'
// order. The preprocessing itself, as predict applies it, is in the
// metadata (ptrain.preprocess).
//
// The batch dimension is symbolic ("batch"). Dense layers become Gemm with
// the weight as stored (Out, In) and transB = 1; conv is Conv with the
// (Out, In, K, K) weight, strides and symmetric pads; the pools are
// MaxPool and AveragePool; gap is GlobalAveragePool, (batch, C, H, W) to
// (batch, C, 1, 1), then Flatten(axis 1); flatten is Flatten(axis 1);
// batch norm is BatchNormalization in inference form, with the running
// statistics and ε = 1e-5. Dropout is omitted (it is the identity at
// inference). The activations are Relu, LeakyRelu (alpha = the slope),
// Sigmoid, Tanh and Softmax (axis 1); identity adds no node. A model whose
// last layer is C×H×W gets a final Flatten, so output is always
// two-dimensional, as predict's rows are.
//
// # Residual blocks
//
// Each layer's nodes read the values its model.LayerInfo.Inputs name, so
// the graph is the layout's graph: a block's body and its shortcut both
// start from the value the block reads, and the block's sum is
//
//	Add(body's last output, shortcut's last output)   res(BODY|SHORTCUT)
//	Add(body's last output, the block's input)         res(BODY)
//
// followed by the block's activation (ResNet v1's Relu after the sum).
// Blocks nest: a block inside a body or a shortcut is one more Add in that
// branch. The layout's order (the body's layers, the shortcut's, the sum)
// is a topological order, so the nodes are written in it.
//
// # Folding batch norm
//
// With Options.FoldBatchNorm, a batch norm folds into the conv or dense
// layer before it — W' = a·W, b' = a·(b − mean) + β per output channel,
// a = γ/sqrt(var + ε), in float64 and rounded once — when that layer has
// no activation and the batch norm is the only reader of its output.
// That holds for every conv-bn of a ResNet (stem, both branches, the
// projection). It does not hold, and the BatchNormalization node stays,
// for a batch norm after an activation, after a pool or at a branch's
// start (res(bn-…), res(…|bn)), and for one whose conv also feeds an
// identity shortcut or another branch (conv-res(bn:relu-…)): folding
// would change the value the other reader sees.
//
// Initializers keep ptrain's tensor names (dense.0.weight, bn.1.running_var,
// data.scale); node outputs are named after their layer (conv.0, relu.2,
// res.6 for the sum that is layer 6, gap.14).
// A float64 checkpoint exports as float32: every weight is rounded once.
//
// # Metadata
//
// metadata_props carry the checkpoint's metadata as checkpoint.Encode
// writes it into a checkpoint file, under the same keys: the spec
// (ptrain.arch), ptrain.task, ptrain.classes (JSON, in output order),
// ptrain.targets, ptrain.progress, ptrain.optimizer, ptrain.preprocess, the
// training split, batch size and input range, and everything in Checkpoint.Meta (the
// command's ptrain.config, ptrain.version, ptrain.created, ptrain.blas);
// then Options.Meta. producer_name is "ptrain".
//
// # Reading
//
// Parse and ReadFile decode any ONNX model into a Summary (its inputs,
// outputs, operators and metadata), the figures `ptrain info MODEL.onnx`
// prints.
//
// # Encoding
//
// The protocol buffer types are generated from Debian's onnx.proto (onnx
// 1.12) with google.golang.org/protobuf (package onnx/internal/onnxpb):
// the schema's own code, field numbers and wire format, rather than a
// second hand-written encoder to keep in step with it, and a reader (Parse)
// that decodes any ONNX model, not only ptrain's. The cost, measured: the
// ptrain binary grows from 16.4 MB to 18.9 MB (go build, linux/amd64,
// Go 1.26), the protobuf runtime's reflection mostly; encoding is not on
// any hot path. The protowire encoder would save most of that but would
// need a hand-written decoder of nested messages for ptrain info.
package onnx
