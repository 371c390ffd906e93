// Package parallel trains a model data-parallel across worker goroutines.
//
// Each mini-batch is cut into W contiguous shards whose sizes differ by at
// most one. Worker w runs forward and backward on shard w in its own
// model.Workspace (activations and a gradient buffer of its own), reading
// the one shared copy of the weights; no replica ever holds weights of its
// own, so there is nothing to broadcast after the step. The workers also
// share one packing of the dense weights for their GEMMs
// (model.SharedPack), packed at each layer's first forward by whichever
// workers get there, and invalidated by the coordinator before every
// phase that runs forward. Gradients are then
// all-reduced by the workers themselves, owner-computes style: worker w
// owns a contiguous chunk of the flat parameter vector and sums that chunk
// of every worker's gradient into worker 0's buffer, along a fixed
// pairwise tree over the workers (tree.go: worker order for W ≤ 3,
// (g0+g1)+(g2+g3) for 4).
// Finally one optimizer step is applied, split across the workers in
// blocks of the parameters that each claims, its own chunk's first
// (update.go). With at most 32 rows per worker, in a step of one
// micro-batch, the big dense layers' weight gradients are not computed per
// worker: backward copies each such layer's X and dZ into buffers the
// workers share, and in the reduction worker w computes its chunk of
// those gradients over all the rows, into worker 0's buffer, where the
// reduction has nothing left to add (split.go); in such a step the first
// of those layers, when it reads the network's input, also runs its
// forward by columns where every worker has rows, the kernels read the
// shared packing for the batch's rows and it pays (splitPays): each
// worker computes a range of its outputs over all the workers' rows —
// packing only those columns of W — and takes its own rows of the result
// (model.SharedPack.SplitColumns). Gradients never travel: the coordinator signals each
// phase by bumping an atomic generation counter, which waiting workers poll
// (yielding the processor) before they park on their own channel; each
// worker reports on a shared buffered channel. Across processes (see Group)
// one MPI all-reduce of the in-process sums follows the reduction.
//
// Exactness: each worker's loss gradient is already divided by the size of
// the whole batch (model.Workspace.LossGrad's denom), so the reduction is a
// plain sum and one step with W workers equals one step with 1 worker up to
// float rounding, whatever W and whether or not W divides the batch (with
// 2 workers the split layers' weight gradients are even one worker's bits,
// one product over the batch's rows; see split.go).
// Determinism: the summation order is fixed by worker index (never by who
// finishes first; the tree also makes 2 ranks × W workers sum bit for bit
// as 1 × 2W, see tree.go) and dropout masks depend on the sample's position in the
// global batch, so the same seed and W give bit-identical weights.
//
// Concurrency contract: during the gradient phase (phaseGrad; likewise phaseEval) worker w writes
// only its workspace, its own input buffers, its own rows of the split
// layers' shared X and dZ, the panels of the shared
// packing that it claims (each panel is packed by one worker; a worker
// waits until every claimed panel is packed before it reads the packing),
// and in a column split its columns of the first layer's shared output
// and their panels (it reads the other workers' rows of X once all have
// arrived, and their columns once all are written);
// during the reduction (phaseReduce) it writes only its chunk of worker 0's
// gradient (and of the other workers' buffers, the tree's partial sums),
// reading every worker's rows of the split layers' X and dZ, and
// during the update (phaseApply) only the blocks it claims (each claimed exactly once,
// by a compare-and-swap on the word of the share it comes from) of
// worker 0's gradient, of the parameters and of the optimizer state,
// with its block's statistics. The coordinator — the goroutine that called Run, which also does
// worker 0's share — touches shared state only between phases, after every
// worker has reported. Worker goroutines live inside Run: none outlives
// Step, Fit or Evaluate.
//
// # Batch statistics
//
// Batch norm normalises by the statistics of the whole global batch, as
// PyTorch's SyncBatchNorm does, so that W workers (and S processes) still
// compute what one computes. Each worker's Workspace.Sync is a barrier
// (batchSync) inside the gradient phase: every worker, also one without rows, posts
// its partial sums; the last to arrive adds them along the same tree — and,
// across processes, all-reduces them through the comm goroutine — and
// all continue with the same figures. Each worker stages the running
// statistics its pass computes in its own buffer; worker 0's are copied
// into the model after the optimizer step, so an abandoned step leaves
// them as they were. With batch norm the overlap path is off: a rank
// without rows would post its layers in another order than the others.
//
// # Workers between steps
//
// The workers live for the whole of Run, parked between steps: a step
// starts no goroutine. The coordinator does worker 0's share itself and
// starts each phase by bumping the generation counter, which waiting
// workers poll, yielding the processor, for a short while before they
// park on their channel; so a worker begins its shard within microseconds,
// where a wake-up through the scheduler can take hundreds while other
// threads sit in long BLAS calls. With more workers than processors they
// park at once. bench/README.md measures the step, and says why the
// trainer is built so.
//
// Errors and panics: worker phases cannot fail — they compute, and report
// non-finite values in their result for the coordinator to check. The
// coordinator returns every error itself: it watches ctx.Done() while it
// waits for a phase (and then lets the workers finish it), and always
// waits out the update phase, so the weights are never half updated. A
// panic in a worker is not recovered, so it is never swallowed, and Run
// waits for every worker goroutine before it returns, also when f panics.
package parallel
