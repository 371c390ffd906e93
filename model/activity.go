package model

// Activation returns layer l's activation output a = f(z) for the rows of
// the last Forward ((n, Out.Size()), before dropout), a view valid until
// the next Forward. For an identity layer it is z. Monitors read it to
// count dead ReLU units and saturated sigmoid/tanh units; it must not be
// written.
func (w *Workspace[T]) Activation(l int) []T {
	return w.a[l][:w.n*w.m.Stack[l].Info().Out.Size()]
}
