// Package model is ptrain's network: the architecture (Spec, read by
// ParseSpec from strings like "784-256:relu-10:softmax"), its parameters
// (Model), the state of one forward and backward pass (Workspace), the
// activations and losses with their gradients, and checkpoints in the
// safetensors format. The kernels it runs on are in model/num.
//
// # One flat parameter buffer
//
// All the weights and biases of a Model live in one allocation, Params,
// made by num.Alloc. Each layer is a view into it — a dense layer is its
// weight matrix (Out, In), row-major like PyTorch's nn.Linear.weight, then
// its bias (Out) — and nothing else holds parameters. A gradient, every optimizer
// state buffer and the tensors of a checkpoint use the same layout, so the
// all-reduce, the optimizer step and Save are each a loop over one slice;
// Dense.WeightsIn finds a layer's part of any buffer in that layout.
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
// Grad and only ZeroGrad clears it, so micro-batches accumulate. LossGrad
// divides by denom, the size of the whole batch: when several workspaces
// each run a shard of one batch, their gradients sum to the gradient of
// the batch's mean loss.
//
// # Ownership and concurrency
//
// A Workspace belongs to one goroutine at a time, and Forward, LossGrad
// and Backward allocate nothing. Any number of workspaces may read one
// Model at once, as long as nothing writes Params meanwhile: the optimizer
// runs between passes (package parallel arranges this for its workers).
// Forward borrows its input x until Backward, and its result is a view
// valid until the next Forward. Tensors returns views of Params, not
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
