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
//
// # Batch statistics
//
// Batch norm normalises by the statistics of the whole global batch, as
// PyTorch's SyncBatchNorm does, so that W workers (and S processes) still
// compute what one computes. Each worker's Workspace.Sync is a barrier
// (batchSync) inside phase 1: every worker, also one without rows, posts
// its partial sums; the last to arrive adds them in worker order — and,
// across processes, all-reduces them through the comm goroutine — and
// all continue with the same figures. Each worker stages the running
// statistics its pass computes in its own buffer; worker 0's are copied
// into the model after the optimizer step, so an abandoned step leaves
// them as they were. With batch norm the overlap path is off: a rank
// without rows would post its layers in another order than the others.
//
// # Why not an errgroup per step
//
// STYLE.md suggests an errgroup per step: start the workers for each step, wait
// for them, let the first error cancel the rest. The trainer does not, for a
// measured reason. A step is at least three hand-offs (gradients, reduction,
// update), and a hand-off through the scheduler — waking a goroutine parked on
// a channel, measured here; an errgroup's goroutine starts and its Wait take
// the same path — cost 100–500 µs while other goroutines sat in long BLAS
// calls: the woken goroutine can wait in the run queue of a P whose thread is
// busy in cgo. The first trainer (commit 52f8d3b)
// already kept its workers alive across steps, parked on a channel per phase,
// which saves the goroutine starts an errgroup would pay; even so, worker 1
// began its shard about 400 µs after dispatch, on a one-worker step of 2.7 ms
// (batch 128, OpenBLAS), and two workers were no faster than one. With the
// generation counter (commit f602dfe) the coordinator does worker 0's share
// itself, waiting workers yield for up to spinBudget rounds before they park,
// and worker 1 starts within 5–10 µs. In that commit's run BenchmarkTrainStep
// made 9,169 samples/s with one worker and 17,894 with two in pure Go (1.95x),
// 48,279 and 70,903 with OpenBLAS (1.47x), at 0 allocs/op. Spinning without
// yielding measured 38% slower (the scheduler takes the P of a thread in a long
// cgo call, and the worker coming back needs one), and with more workers than
// processors they park at once, since yielding then cost 50–70% of the step.
// bench/README.md has the current figures.
//
// What the errgroup would give is kept by other means. Worker phases cannot
// fail: they compute, and report non-finite values in their result for the
// coordinator to check, so there is no first error to race for. The coordinator
// returns every error itself: it watches ctx.Done() while it waits for a phase
// (and then lets the workers finish it), and always waits out the update phase,
// so weights are never half updated. A panic in a worker is not recovered, so
// it is never swallowed, and Run waits for every worker goroutine before it
// returns, also when f panics.
package parallel
