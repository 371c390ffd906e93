// Package trainhook reaches the parts of a parallel.Session that are not
// its API but that the benchmarks in bench/ measure on their own. Package
// parallel sets the functions when it is initialised, so a program that
// imports parallel finds them set.
package trainhook

import "time"

// AllReduce runs the reduction phase of session, a *parallel.Session[T],
// alone: worker 0's gradient buffer becomes the sum of every worker's,
// each worker summing its own chunk in worker order; a non-finite element
// is reported as a *parallel.NonFiniteError. Call it between steps, from
// the goroutine that called Trainer.Run. It panics if session is not a
// *parallel.Session.
var AllReduce func(session any) error

// Grads returns the gradient buffer of each worker of session, a
// *parallel.Session[T], as a [][]T (worker 0's holds the sum after
// AllReduce). The buffers belong to the trainer: write them only between
// steps, from the goroutine that called Trainer.Run. It panics if session
// is not a *parallel.Session.
var Grads func(session any) any

// PhaseTiming is one phase a session dispatched, as Timeline records it.
type PhaseTiming struct {
	Phase int             // 0 forward and backward, 1 reduction, 2 check, 3 update, 4 evaluation
	End   []time.Duration // per worker: from the dispatch to the end of its share
	Wall  time.Duration   // from the dispatch to the phase's end (every worker reported)
}

// Timeline makes session, a *parallel.Session[T], record its next phases,
// at most n (allocated here, so that recording allocates nothing), and
// returns a function that stops the recording and returns the records.
// Call both from the goroutine that called Trainer.Run, between steps. It
// panics if session is not a *parallel.Session.
var Timeline func(session any, n int) func() []PhaseTiming
