// Package gradcheck compares analytic gradients with central finite
// differences, in float64. Every layer, activation and loss of ptrain goes
// through it in tests; it is exported so that code built on ptrain can check
// its own extensions the same way.
//
// Check takes the point x, the analytic gradient there and a function f
// that reads x. It perturbs one element of x at a time and puts it back, so
// x must not be shared with anything running concurrently, and it panics if
// f itself changed x (a check of the inputs, in the manner of gonum's
// testblas). The Result names the worst element, judged by its error
// relative to the larger of the two values and Floor.
//
// The package Example checks the gradient of a cubic.
package gradcheck
