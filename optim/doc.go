// Package optim updates flat parameter slices from flat gradient slices.
// It knows nothing of models: a parameter buffer, its gradient and every
// state buffer share one layout, so an update — and the optimizer state in
// a checkpoint — is a loop over aligned slices. It imports only model/num,
// for the element type and the vector kernels, never model itself.
//
// Update formulas and default hyperparameters follow PyTorch's torch.optim,
// so that a run moved from PyTorch trains the same way: each Method's doc
// gives its formula, Defaults gives PyTorch's hyperparameters, and New
// rejects values no run should use (Config.Validate).
//
// # Buffers
//
// The caller owns the parameters and the gradient. Step never modifies
// the gradient: with weight decay on, Apply adds its term into a
// scratch copy that the Optimizer owns. The Optimizer also owns its state
// buffers (momentum, square averages, Adam's two moments), allocated once
// by New with the parameters' length and in their layout. State returns
// views of those buffers, not copies, to be written out before the next
// step; LoadState copies into them, and a restored optimizer continues
// exactly as the uninterrupted one would have.
//
// The clipping helpers are the exception: ClipNorm and ClipValue scale the
// gradient in place, before the step, as PyTorch's clip_grad_norm_ does.
//
// # Concurrency
//
// A step may be applied in pieces: Begin starts step t once, then Apply
// updates any set of disjoint index ranges, concurrently if the caller
// likes (the data-parallel trainer gives each worker its own range).
// Begin, Step, State and LoadState must not run concurrently with anything
// else on the same Optimizer, nor Apply on overlapping ranges.
//
// # Exactness
//
// On amd64 the float32 updates run 8 lanes at a time in AVX assembly
// (kernels_amd64.s); -tags purego, other architectures and machines
// without AVX run the Go loops alone. The assembly repeats the Go loops'
// operations in their order, and the Go loops force every rounding that
// the compiler could otherwise fuse into a multiply-add, so a step gives
// the same bits either way, and whatever ranges it is applied in.
// testdata/apply.golden pins those bits for every rule and both element
// types; `go test ./optim` and `go test -tags purego ./optim` both check it.
//
// # Learning-rate schedules
//
// The optimizer owns its schedule, as PyTorch's schedulers wrap an
// optimizer: Config.Schedule (or SetSchedule) gives each step's rate from
// Config.LR and the step count, which Begin applies and LR reports; it
// needs StepsPerEpoch to count epochs. The schedule is part of the Config,
// so a checkpoint of the Config and State restores the curve and the
// position on it together.
//
// The package Example minimises a quadratic with Adam.
package optim
