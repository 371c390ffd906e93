// Package model is ptrain's network: the architecture (Spec, read by
// ParseSpec from strings like "784-256:relu-10:softmax" or
// "1x28x28-conv(32,3)-bn:relu-maxpool(2)-flatten-10:softmax"), its layout
// (Spec.Layout), its parameters (Model), its layers (dense, conv,
// max and average pooling, batch norm, flatten, global average pooling,
// the sum ending a residual block res(BODY|SHORTCUT)), the state of one forward
// and backward pass (Workspace), the activations and losses with their
// gradients, and checkpoints in the safetensors format. The kernels it
// runs on are in model/num.
//
// # One flat parameter buffer, one layout
//
// All the weights and biases of a Model live in one allocation, Params,
// made by num.Alloc; batch norm's running statistics, which are saved and
// broadcast but never optimized or summed across workers, live in a second
// one, Buffers. Spec.Layout is the one place that works out every layer's
// shapes and tensors — name (conv.0.weight), shape (PyTorch's: a dense
// weight is (Out, In) like nn.Linear.weight, a conv weight (Out, In, K, K)
// like nn.Conv2d's), offset — and the model, save/load, the trainer and
// the CLI all ask it. Each layer is a view into the buffers and nothing
// else holds parameters. A gradient, every optimizer state buffer and the
// tensors of a checkpoint use the same layout, so the all-reduce, the
// optimizer step and Save are each a loop over one slice. For a stack of
// dense layers the layout is that of every earlier ptrain: layer by layer,
// weight then bias.
//
// # Layers
//
// Everything a layer kind is — its name in a spec and how it parses, its
// output shape, its tensors with their roles (weight, bias, scale, shift,
// running statistic, counter), how it is built, its PyTorch twin — is one
// entry of the kind table (kinds.go). Initialisation, the L1 term,
// SetWeights' checks and the trainer read a tensor's Role, never a kind,
// and Layout.Groups is the one list of the layers' parameter ranges that
// the trainer's buckets and per-layer statistics iterate.
//
// A layer has Forward (x → z) and Backward (dz → ∂θ added into the
// gradient, ∂L/∂x added into dx unless not needed), side by side in one
// file per kind (dense.go, conv.go, pool.go, batchnorm.go); activations
// and dropout are post-steps the Workspace applies after any layer (batch
// norm and a residual block's sum apply their ReLU in the pass that
// computes their output, with the same bits: reluFused). Layers keep what a
// pass needs for its backward in the Workspace's scratch, never in
// themselves. A layer that needs statistics of the whole batch (batch
// norm) gets them through Workspace.Sync, which a data-parallel trainer sets to
// a sum over its workers and processes: every part of a batch calls it the
// same number of times, also a part with no rows. CheckLayer
// gradient-checks one layer's parameter and input products.
//
// A convolution or a channel batch norm whose output goes only (through a
// ReLU or no activation) into a max pooling runs fused with it, as one
// stage of the Workspace (fused.go, convpool.go, normpool.go): its output,
// the largest tensor of a CNN, is pooled while in cache and never stored.
// The stage computes the layers' values; sums may round in another order.
//
// Around batch norm, three more pairs share passes, with the bits of the
// layers run one by one: a norm without an activation whose output only a
// residual sum with a ReLU reads is normalised inside the sum's pass, and
// keeps no output (normsum.go); a norm with its ReLU fused takes the
// ReLU's backward in its own first pass (pass.ReLUBackward); and a conv
// whose output only the norm after it reads computes its output gradient
// — the norm's input gradient — plane by plane where it needs it, so
// that it is never stored (convnorm.go).
//
// # A graph of slots
//
// A residual block's layers are laid out in the stack in spec order — its
// body's, its shortcut's, then its sum, a layer that reads both branches
// (or the body and the block's input, for the identity shortcut) — so
// tensor names count each kind over all layers, body before shortcut.
// Each layer of the stack owns its slots in the Workspace — output,
// activation, dropout mask, scratch and the gradient of its output — and
// reads the outputs of the layers its LayerInfo.Inputs name; the stack's
// order is a topological order, so parameters keep their layer-by-layer
// layout. Backward adds into the gradient of each input (the last reader
// clears it first), so an output read by several layers receives the sum
// of their gradients, as llm.c's backward passes accumulate.
//
// # A Workspace per worker
//
// A Model holds no per-batch state. A Workspace holds everything a pass
// writes: every layer's activations for up to the number of rows it was
// made for, the backward scratch, and Grad, the gradient in the layout of
// Params. One training step on one goroutine is
//
//	ws.ZeroGrad()
//	ws.Forward(x, n, true)                        // x is (n, Inputs)
//	ws.LossGrad(model.CrossEntropy, y, float64(n)) // y is (n, Outputs)
//	ws.Backward()                                 // ws.Grad += ∂L/∂Params
//
// and then an optimizer updates Params from ws.Grad. Backward adds into
// Grad and only ZeroGrad (or ResetGrad) clears it, so micro-batches
// accumulate. LossGrad
// divides by denom, the size of the whole batch: when several workspaces
// each run a shard of one batch, their gradients sum to the gradient of
// the batch's mean loss. ResetGrad in place of ZeroGrad spares a pass
// over the gradient: the next Backward writes the dense layers' parts
// instead of adding into them (the same bits; until then those parts are
// undefined).
//
// Evaluation runs Forward with train false in batches of the workspace's
// rows: Workspace.PredictBatches is that loop (Model.Predict and
// parallel's Evaluate run on it), and AddLoss sums the batches' losses in
// a LossSum as one Loss over all the rows would.
//
// # Ownership and concurrency
//
// A Workspace belongs to one goroutine at a time, and Forward, LossGrad
// and Backward allocate nothing. Any number of workspaces may read one
// Model at once, as long as nothing writes Params meanwhile: the optimizer
// runs between passes (package parallel arranges this for its workers). A
// training pass through batch norm writes running statistics: to the
// Workspace's Running buffer when it has one (a trainer stages them there
// and commits them with the optimizer step), else to the Model's Buffers.
// Workspaces that run shards of one batch at the same time may share one
// SharedPack, so that each dense layer's weights are packed for the GEMM
// once, by all of them together, instead of once per workspace; it must
// be invalidated whenever Params change. Armed by SplitColumns, their
// training Forwards compute the dense layer it names, one that reads the
// network's input, together instead: each workspace (by its Part) a range
// of the output columns over all of their rows, and each then takes its
// own rows (colsplit.go). Every one of them must then run its training
// Forward, or the others wait for it. A workspace whose dense layers'
// weight gradients are deferred (DeferWeightGrad) copies their X and dZ
// to rows of buffers the trainer shares between workspaces, and WeightGrad
// then computes those gradients over several workspaces' rows at once. Forward borrows its input x until
// Backward, and its result is a view valid until the next Forward. Tensors returns views of Params, not
// copies, to be written out before Params change.
//
// # Element type and exactness
//
// Models are generic over num.Float: float32 for training speed, float64
// for gradient checks, and Convert turns one into the other. Every layer,
// activation and loss is checked against central differences in float64
// with model/gradcheck. Randomness is explicit: New and Initialize draw
// from their seed alone, and dropout masks from SetDropoutStream's (seed,
// step, row), so the same seeds give the same bits.
//
// # Errors
//
// Programmer misuse, such as a batch larger than a workspace, panics with
// a "model: ..." message. What comes from outside, a spec string or a
// checkpoint, gives a returned error that says where the problem is.
//
// # Where the numeric core lives
//
// The element type, the matrix views and the BLAS calls are in model/num,
// under model/ where the design's package layout puts the numeric core
// (model is its main user). optim and data import
// model/num, not model: they need the element type constraint and the
// vector kernels to work on flat slices, and must not depend on what a
// layer is, so that the optimizer stays a loop over aligned slices and
// the data package a filler of caller-owned buffers. parallel, above them
// all, joins a Model, an optimizer and the data.
//
// The package Example parses a spec, runs a forward pass and round-trips
// the model through safetensors; ExampleParseSpec_error shows a spec
// error that says where it is.
package model
