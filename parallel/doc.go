// Package parallel trains a model data-parallel across worker goroutines.
//
// Each mini-batch is cut into W contiguous shards whose sizes differ by at
// most one. Worker w runs forward and backward on shard w in its own
// model.Workspace (activations and a gradient buffer of its own), reading
// the one shared copy of the weights; no replica ever holds weights of its
// own, so there is nothing to broadcast after the step. Gradients are then
// all-reduced by the workers themselves, owner-computes style: worker w
// owns a contiguous chunk of the flat parameter vector and sums that chunk
// of every worker's gradient, in worker order, into worker 0's buffer.
// Finally one optimizer step is applied, again split by chunk across the
// workers. Gradients never travel: the coordinator signals each phase by
// bumping an atomic generation counter, which waiting workers poll
// (yielding the processor) before they park on their own channel; each
// worker reports on a shared buffered channel. Across processes (see Group)
// one MPI all-reduce of the in-process sums follows the reduction.
//
// Exactness: each worker's loss gradient is already divided by the size of
// the whole batch (model.Workspace.LossGrad's denom), so the reduction is a
// plain sum and one step with W workers equals one step with 1 worker up to
// float rounding, whatever W and whether or not W divides the batch.
// Determinism: the summation order is fixed by worker index (never by who
// finishes first) and dropout masks depend on the sample's position in the
// global batch, so the same seed and W give bit-identical weights.
//
// Concurrency contract: during phase 1 worker w writes only its workspace
// and its own input buffers; during phases 2 and 3 it writes only its
// chunk of worker 0's gradient, of the parameters and of the optimizer
// state. The coordinator — the goroutine that called Run, which also does
// worker 0's share — touches shared state only between phases, after every
// worker has reported. Worker goroutines live inside Run: none outlives
// Step, Fit or Evaluate.
package parallel
