package model

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/ptrain/ptrain/model/num"
)

// Workspace holds everything one forward/backward pass writes: for each
// layer of the stack its slots — output, activation, dropout mask,
// scratch and the gradient of its output — for up to Cap rows, and the
// gradient buffer Grad (the layout of Model.Params). It reads the model's parameters and never writes them; a
// training pass through batch norm writes the running statistics to
// Running, or to the model's Buffers when Running is nil.
//
// A convolution or a batch norm whose only consumer is a max pooling runs
// fused with it (fused.go): the workspace keeps no output of that layer,
// and reports its activity through AddActivity.
//
// A Workspace is owned by one goroutine at a time; the data-parallel
// trainer gives each worker its own. Forward, LossGrad and Backward
// allocate nothing.
type Workspace[T num.Float] struct {
	m    *Model[T]
	Grad []T // ∂L/∂Params, accumulated by Backward; zeroed by ZeroGrad (or ResetGrad and the next Backward)
	cap  int

	// Running, if not nil, receives the running statistics a training
	// pass updates (layout of Model.Buffers) instead of the model: a
	// data-parallel trainer stages them there and commits them with the
	// optimizer step.
	Running []T
	// Sync, if set, sums a layer's batch statistics over the whole batch
	// when this workspace runs only a part of it (see pass.Sync).
	Sync func(v []float64)
	// Pack, if set, is the packing of the dense layers' weights that this
	// workspace shares with others running the same pass on other rows
	// (see SharedPack for the contract).
	Pack *SharedPack[T]
	// Part is this workspace's index among those sharing Pack (0, 1, …):
	// which rows and columns it computes in a column split
	// (SharedPack.SplitColumns).
	Part int

	n       int // rows of the last Forward
	train   bool
	x       []T            // input of the last Forward (n, Inputs), borrowed from the caller
	z       [][]T          // per layer: layer output (cap, Out); a itself where the layer has no activation or fuses its ReLU (fusesReLU), never storing z
	a       [][]T          // per layer: activation (cap, Out)
	out     [][]T          // per layer: what its readers read — a, or a·mask under dropout
	mask    [][]T          // per layer with dropout: 0 or 1/(1−p) for each element
	scratch [][]T          // per layer: its Scratch(cap)
	stage   []fused[T]     // per layer: the stage it makes with the pooling after it, or nil
	unitSum [][]T          // per fused layer, and per layer that keeps pass.ActSums (keepsActSums): the last Forward's Σ activation per channel (AddActivity)
	sums    [][]float64    // per layer that synchronises: its pass.Sums
	presum  [][]float64    // per conv whose output a batch norm alone reads: its pass.OutSums in training (presumTargets)
	normed  []bool         // per layer: a batch norm that the residual sum reading it normalises; it keeps no output (normsum.go)
	norms   [][][]float64  // per sum with such inputs: its pass.Norms
	nback   []*normBack[T] // per conv whose output gradient it computes from the batch norm after it: its pass.NormBack in Backward (convnorm.go)
	// grad, per layer: ∂L/∂out, (cap, Out), where the layers that read
	// the output add their input gradients (Backward clears it before the
	// first of them). Layers whose gradients are never needed at once
	// share storage (gradBuffers), so a chain of layers alternates
	// between two buffers, as it did before layers added into them.
	grad [][]T
	// clears, per layer and input: whether its Backward is the first to
	// add into the gradient of that input (it is the input's last reader
	// in the stack), and so clears it first.
	clears  [][]bool
	xs      [][]T // a joining layer's inputs, and their gradients
	dxs     [][]T
	dLast   []T       // ∂L/∂z of the last layer, set by LossGrad; a view of its grad
	lse     []float64 // with a softmax output: each row's log Σ exp(z), from Forward
	lossRow []float64 // a registered loss's row in float64: a, y, ∂/∂a
	auto    Loss      // what LossAuto stands for: DefaultLoss of the model, resolved once
	pass    pass[T]

	seed, step uint64 // dropout stream, see SetDropoutStream
	rowBase    int

	// zeroed are the ranges of Grad that ResetGrad clears: all but the
	// dense layers', which a fresh Backward writes. fresh: ResetGrad
	// was called and Backward has not run since.
	zeroed [][2]int
	fresh  bool

	// kept, per layer: where Backward copies a deferred dense layer's X
	// and dZ (DeferWeightGrad, dense_split.go); nil until the first call.
	kept [][2][]T

	// InputGrad, if not nil, receives ∂L/∂x for the input of the last
	// Forward from Backward ((n, Inputs)); otherwise the first layer skips
	// that product.
	InputGrad []T

	// AfterLayer, if set, is called by Backward as soon as layer l's
	// gradient in Grad is complete (layers of Model.stack in reverse
	// order), before the gradient flows on to layer l−1. A data-parallel
	// trainer uses it to start reducing the last layers while the first
	// are still in backward, as PyTorch DDP's reducer does. Layer l's part
	// of Grad is not written again by this Backward.
	AfterLayer func(l int)
}

// NewWorkspace sizes a workspace for batches of up to maxBatch rows.
func NewWorkspace[T num.Float](m *Model[T], maxBatch int) *Workspace[T] {
	if maxBatch <= 0 {
		panic(fmt.Sprintf("model: NewWorkspace with batch %d", maxBatch))
	}
	w := &Workspace[T]{m: m, Grad: num.Alloc[T](len(m.Params)), cap: maxBatch, auto: DefaultLoss(m.Spec)}
	for i := range m.stack {
		w.stage = append(w.stage, newFused(m, i))
	}
	w.normed = normSumTargets(m, w.fusesReLU)
	for i, l := range m.stack {
		info := l.Info()
		o := info.Out.Size()
		var sums []float64
		if s, ok := l.(synced); ok {
			sums = make([]float64, s.syncLen())
		}
		f := w.stage[i]
		var unitSum []T
		if f != nil {
			unitSum = make([]T, info.Out[0])
		}
		w.unitSum = append(w.unitSum, unitSum)
		w.scratch = append(w.scratch, num.Alloc[T](l.Scratch(maxBatch)))
		w.sums = append(w.sums, sums)
		if f != nil || w.normed[i] { // the fused stage keeps no output of its first layer, nor a sum of the norms it normalises
			w.z, w.a, w.out, w.mask = append(w.z, nil), append(w.a, nil), append(w.out, nil), append(w.mask, nil)
			continue
		}
		a := num.Alloc[T](maxBatch * o)
		z := a // with no activation a is z; a layer with its ReLU fused never stores z
		if info.Spec.Act.Kind != Identity && !w.fusesReLU(i) {
			z = num.Alloc[T](maxBatch * o)
		}
		out, mask := a, []T(nil)
		if info.Spec.Dropout > 0 {
			out = num.Alloc[T](maxBatch * o)
			mask = num.Alloc[T](maxBatch * o)
		}
		w.z, w.a, w.out, w.mask = append(w.z, z), append(w.a, a), append(w.out, out), append(w.mask, mask)
	}
	if m.Spec.Layers[len(m.Spec.Layers)-1].Act.Kind == Softmax {
		w.lse = make([]float64, maxBatch)
	}
	w.presum = presumTargets(m, w.sums)
	w.norms = normInputs(m, w.normed, w.sums)
	for l := range m.stack {
		if w.keepsActSums(l) {
			w.unitSum[l] = make([]T, m.stack[l].Info().Out[0])
		}
	}
	w.nback = make([]*normBack[T], len(m.stack))
	for l, ok := range convNormTargets(m, w.stage) {
		if ok {
			w.nback[l] = &normBack[T]{bn: m.stack[l+1].(*batchNorm[T]), sums: w.sums[l+1]}
		}
	}
	w.lossRow = make([]float64, 3*m.Spec.Outputs())
	w.gradBuffers(maxBatch)
	at := 0 // Grad[at:] not yet covered by a range or a dense layer
	for i, l := range m.stack {
		if _, ok := l.(*dense[T]); !ok {
			continue
		}
		lo, hi := m.Layout.Layers[i].ParamRange()
		if lo > at {
			w.zeroed = append(w.zeroed, [2]int{at, lo})
		}
		at = max(at, hi)
	}
	if at < len(w.Grad) {
		w.zeroed = append(w.zeroed, [2]int{at, len(w.Grad)})
	}
	w.xs, w.dxs = make([][]T, 0, 2), make([][]T, 0, 2)
	return w
}

// gradBuffers gives every layer whose output gradient Backward needs its
// grad, and works out clearsInput. A layer's gradient is needed from the
// backward of its last reader (which clears it) until its own backward,
// which turns it into ∂L/∂z in place; buffers are handed out in backward
// order and taken back once their layer is done, so that a chain
// alternates between two, each sized for the widest layer.
func (w *Workspace[T]) gradBuffers(maxBatch int) {
	infos := w.m.Layout.Layers
	last := len(infos) - 1
	lastReader := make([]int, len(infos)+1) // by input index + 1: the largest index of a layer reading it
	for i := range lastReader {
		lastReader[i] = -1
	}
	widest := w.m.Spec.Inputs
	for i := range infos {
		for _, in := range infos[i].Inputs {
			lastReader[in+1] = max(lastReader[in+1], i)
		}
		if w.stage[i] == nil {
			widest = max(widest, infos[i].Out.Size())
		}
	}
	w.grad = make([][]T, len(infos))
	w.clears = make([][]bool, len(infos))
	var bufs [][]T
	var free, refs []int             // refs, per buffer: the layers not yet done whose grad it holds
	owner := make([]int, len(infos)) // the buffer of each layer's grad
	take := func(l int) {
		if len(free) == 0 {
			bufs, refs = append(bufs, num.Alloc[T](maxBatch*widest)), append(refs, 0)
			free = append(free, len(bufs)-1)
		}
		b := free[len(free)-1]
		free = free[:len(free)-1]
		owner[l], w.grad[l], refs[b] = b, bufs[b], 1
	}
	take(last)
	for l := last; l >= 0; l-- {
		top := l
		if l > 0 && w.stage[l-1] != nil { // the pooling of a fused stage: both at once
			l--
		}
		w.clears[l] = make([]bool, len(infos[l].Inputs))
		for i, in := range infos[l].Inputs {
			if lastReader[in+1] == l {
				if in >= 0 && (w.normed[in] || w.nback[in] != nil) {
					// A norm that this sum normalises reads the sum's
					// gradient as its own (normsum.go), and a conv
					// before a norm the norm's (convnorm.go): this layer
					// writes nothing into it, and the buffer stays its
					// input's too until that one's backward is done.
					owner[in], w.grad[in] = owner[top], w.grad[top]
					refs[owner[top]]++
					continue
				}
				w.clears[l][i] = true
				if in >= 0 {
					take(in)
				}
			}
		}
		b := owner[top]
		if refs[b]--; refs[b] == 0 {
			free = append(free, b)
		}
	}
}

// Model returns the model the workspace reads.
func (w *Workspace[T]) Model() *Model[T] { return w.m }

// ZeroGrad sets Grad to zero. Backward accumulates, so call it before the
// first backward pass of a step.
func (w *Workspace[T]) ZeroGrad() {
	clear(w.Grad)
	w.fresh = false
}

// ResetGrad is ZeroGrad for a step whose next call is a Forward and
// Backward: it zeroes only the parts of Grad that Backward adds into, and
// the next Backward writes the rest — the dense layers' weight and bias
// gradients — instead of adding into it, so that neither the clearing nor
// the weight-gradient GEMM touches those parts twice (with few rows per
// pass, a fixed cost of the step: the MLP's gradient is 0.9 MB). Until that
// Backward, those parts of Grad are undefined. The result of the Backward
// equals ZeroGrad's bit for bit.
func (w *Workspace[T]) ResetGrad() {
	for _, r := range w.zeroed {
		clear(w.Grad[r[0]:r[1]])
	}
	w.fresh = true
}

// SetDropoutStream fixes the randomness of dropout: the mask of row r of the
// next training Forward is drawn from a stream determined by (seed, step,
// rowBase+r) alone. A data-parallel trainer passes the row's index in the
// global batch as rowBase+r, so the masks — and so the update — do not
// depend on how the batch was sharded.
func (w *Workspace[T]) SetDropoutStream(seed, step uint64, rowBase int) {
	w.seed, w.step, w.rowBase = seed, step, rowBase
}

// passFor prepares the pass handed to layer l.
func (w *Workspace[T]) passFor(l int) *pass[T] {
	p := &w.pass
	p.N, p.Train, p.Grad, p.Sync = w.n, w.train, w.Grad, w.Sync
	p.Scratch, p.Sums = w.scratch[l], w.sums[l]
	p.Fresh, p.FreshDx = w.fresh, 0
	p.OutSums, p.Presummed, p.Norms, p.ReLUBackward, p.NormBack, p.ActSums = nil, false, w.norms[l], false, nil, nil
	if w.train {
		p.OutSums, p.Presummed = w.presum[l], l > 0 && w.presum[l-1] != nil
	}
	p.pack, p.keepX, p.keepDZ = nil, nil, nil
	if w.kept != nil {
		p.keepX, p.keepDZ = w.kept[l][0], w.kept[l][1]
	}
	if w.Pack != nil {
		p.pack = w.Pack.slots[l]
	}
	p.Buffers = w.m.Buffers // an evaluation pass reads the model's running statistics
	if w.train && w.Running != nil {
		p.Buffers = w.Running
	}
	return p
}

// Forward runs the network on n rows of x ((n, Inputs), row-major) and
// returns the output activations (n, Outputs), a view valid until the next
// Forward. With train set, dropout is applied and batch norm normalises by
// the batch's statistics; otherwise the pass is the deterministic
// evaluation pass. x must stay unchanged until Backward.
func (w *Workspace[T]) Forward(x []T, n int, train bool) []T {
	if n < 0 || n > w.cap || len(x) < n*w.m.Spec.Inputs {
		panic(fmt.Sprintf("model: Forward of %d rows (%d values) in a workspace for %d rows of %d", n, len(x), w.cap, w.m.Spec.Inputs))
	}
	w.n, w.train, w.x, w.dLast = n, train, x[:n*w.m.Spec.Inputs], nil
	last := len(w.m.stack) - 1
	for l := 0; l <= last; l++ {
		in := w.input(w.m.stack[l].Info().Inputs[0])
		if w.normed[l] { // its sum writes the output (normsum.go)
			w.m.stack[l].(*batchNorm[T]).prepareAffine(w.passFor(l), in)
			continue
		}
		fuseReLU := w.fusesReLU(l)
		if fuseReLU {
			rf := w.m.stack[l].(reluFused[T])
			w.xs = w.xs[:0]
			for _, src := range w.m.stack[l].Info().Inputs {
				if src >= 0 && w.normed[src] { // the sum reads the norm's input (pass.Norms)
					src = w.m.stack[src].Info().Inputs[0]
				}
				w.xs = append(w.xs, w.input(src))
			}
			p := w.passFor(l)
			if s := w.unitSum[l]; s != nil {
				clear(s)
				p.ActSums = s
			}
			rf.forwardReLU(p, w.xs, w.a[l][:n*w.m.stack[l].Info().Out.Size()])
		} else if j, ok := w.m.stack[l].(joiner[T]); ok {
			w.xs = w.xs[:0]
			for _, src := range w.m.stack[l].Info().Inputs {
				w.xs = append(w.xs, w.input(src))
			}
			j.join(w.passFor(l), w.xs, w.z[l][:n*w.m.stack[l].Info().Out.Size()])
		} else if f := w.stage[l]; f != nil {
			k := n * w.m.stack[l+1].Info().Out.Size()
			clear(w.unitSum[l])
			f.forward(w.passFor(l), in, w.z[l+1][:k], w.scratch[l+1][:k], w.unitSum[l])
			l++ // on to the pooling's activation and dropout
		} else if c := w.Pack.splitAt(l, train); c != nil { // with the other parts, by columns (colsplit.go)
			c.forward(w.m.stack[l].(*dense[T]), w.Part, in, w.z[l][:n*w.m.stack[l].Info().Out.Size()], &w.Pack.abort)
		} else {
			w.m.stack[l].Forward(w.passFor(l), in, w.z[l][:n*w.m.stack[l].Info().Out.Size()])
		}
		info := w.m.stack[l].Info()
		o := info.Out.Size()
		z, a := w.z[l][:n*o], w.a[l][:n*o]
		if act := info.Spec.Act; act.Kind != Identity && !fuseReLU {
			var lse []float64
			if l == last {
				lse = w.lse
			}
			activate(act, z, a, o, lse)
		}
		if info.Spec.Dropout > 0 && train {
			w.dropout(l, n, o, info.Spec.Dropout)
		}
	}
	return w.input(last)
}

// keepsActSums reports whether layer l's Forward adds up its activation
// per channel as it writes it (pass.ActSums): a batch norm with its ReLU
// fused, whose forwardReLU goes plane by plane. A residual sum that
// normalises its norms (normsum.go) could too, but nothing asks: the
// trainer's per-layer statistics cover the layers with parameters, and
// a sum keeps its output, which AddActivity reads as for any layer.
func (w *Workspace[T]) keepsActSums(l int) bool {
	if !w.fusesReLU(l) {
		return false
	}
	_, ok := w.m.stack[l].(*batchNorm[T])
	return ok
}

// fusesReLU reports whether layer l applies its ReLU in the pass that
// computes its output (reluFused): a ReLU layer that can, is not the last
// (whose z the loss reads) and is not the first layer of a fused stage.
func (w *Workspace[T]) fusesReLU(l int) bool {
	_, ok := w.m.stack[l].(reluFused[T])
	return ok && l != len(w.m.stack)-1 && w.stage[l] == nil && w.m.stack[l].Info().Spec.Act.Kind == ReLU
}

// dropout draws the inverted-dropout mask of layer l (keep with probability
// 1−p, scaled by 1/(1−p) so that evaluation needs no rescaling) and applies
// it: out = a·mask.
func (w *Workspace[T]) dropout(l, n, cols int, p float64) {
	keep := 1 - p
	scale := T(1 / keep)
	a, out, mask := w.a[l], w.out[l], w.mask[l]
	var src rand.PCG
	for r := 0; r < n; r++ {
		src.Seed(w.seed^(w.step*0x9e3779b97f4a7c15)^uint64(l)<<56, uint64(w.rowBase+r))
		for j := r * cols; j < (r+1)*cols; j++ {
			if float64(src.Uint64()>>11)*(1.0/(1<<53)) < keep {
				mask[j] = scale
			} else {
				mask[j] = 0
			}
			out[j] = a[j] * mask[j]
		}
	}
}

// LossGrad evaluates loss on the rows of the last Forward against the targets
// y ((n, Outputs)) and prepares Backward: it stores ∂L/∂z of the output
// layer for L = (Σ per-sample losses)/denom. It returns the sum of the
// per-sample losses over these rows. A data-parallel trainer passes the
// global batch size as denom, so that summing the workers' gradients gives
// the gradient of the mean loss over the whole batch. LossAuto is the
// model's DefaultLoss.
func (w *Workspace[T]) LossGrad(loss Loss, y []T, denom float64) float64 {
	if loss == LossAuto {
		loss = w.auto
	}
	l := len(w.m.stack) - 1
	o := w.m.stack[l].Info().Out.Size()
	k := w.n * o
	w.dLast = w.grad[l][:k]
	return lossRows(loss, w.m.stack[l].Info().Spec.Act, w.z[l][:k], w.a[l][:k], y[:k], w.dLast, o, denom, w.rowLSE(loss), w.lossRow, 0) / lossDiv(loss, o)
}

// Loss is LossGrad without the gradient: the sum of the per-sample losses of
// the last Forward's rows against y.
func (w *Workspace[T]) Loss(loss Loss, y []T) float64 {
	var s LossSum
	w.AddLoss(loss, y, &s)
	return s.Sum()
}

// LossSum is the sum of the per-sample losses of consecutive Forwards'
// rows, which AddLoss adds to. Its Sum has the bits of one Loss over all
// the rows in one Forward: a sum of float64s depends on how its terms are
// grouped, and LossSum keeps the one running sum Loss keeps (the terms of
// MSE and BCE, means over a sample's outputs, divided once at the end).
// Its zero value is an empty sum; it is for one loss on one model.
type LossSum struct {
	sum float64 // the terms so far, in row order
	div float64 // what sum is divided by; 0 before the first AddLoss
}

// Sum is the sum of the per-sample losses added so far.
func (s LossSum) Sum() float64 {
	if s.div == 0 {
		return 0
	}
	return s.sum / s.div
}

// AddLoss adds the per-sample losses of the last Forward's rows against y
// ((n, Outputs)) to s: a caller that runs rows through a workspace of
// fewer rows (PredictBatches) gets the loss one Forward of all of them
// would give, to the bit.
func (w *Workspace[T]) AddLoss(loss Loss, y []T, s *LossSum) {
	if loss == LossAuto {
		loss = w.auto
	}
	l := len(w.m.stack) - 1
	o := w.m.stack[l].Info().Out.Size()
	k := w.n * o
	s.sum = lossRows(loss, w.m.stack[l].Info().Spec.Act, w.z[l][:k], w.a[l][:k], y[:k], nil, o, 1, w.rowLSE(loss), w.lossRow, s.sum)
	s.div = lossDiv(loss, o)
}

// rowLSE is the per-row log-sum-exp of the last Forward for loss.
// Cross-entropy is fused with the softmax output (CheckLoss says so) and
// reuses what the softmax computed instead of exponentiating again.
func (w *Workspace[T]) rowLSE(loss Loss) []float64 {
	if loss != CrossEntropy {
		return nil
	}
	if w.lse == nil {
		panic("model: cross-entropy loss on a model without a softmax output layer (see CheckLoss)")
	}
	return w.lse[:w.n]
}

// Backward propagates the gradient stored by LossGrad back through every
// layer and adds ∂L/∂Params into Grad. Layers run in reverse stack order;
// each takes the gradient with respect to its output z — its grad, taken
// back through its dropout mask and activation — and adds the one with
// respect to its input into the grad of the layer it reads, which the
// last reader clears first.
func (w *Workspace[T]) Backward() {
	n := w.n
	if w.dLast == nil {
		panic("model: Backward without LossGrad after Forward")
	}
	w.dLast = nil
	last := len(w.m.stack) - 1
	for l := last; l >= 0; l-- {
		top := l
		var f fused[T]
		if l > 0 {
			f = w.stage[l-1]
		}
		if f != nil { // l is the pooling of a fused stage: both layers at once
			if w.AfterLayer != nil {
				w.AfterLayer(l)
			}
			l--
		}
		ti := w.m.stack[top].Info()
		dz := w.grad[top][:n*ti.Out.Size()]
		reluBack := false                  // the layer takes dz through its ReLU itself (pass.ReLUBackward)
		if top != last && !w.normed[top] { // ∂L/∂out to ∂L/∂z; LossGrad gives the last layer's ∂L/∂z; a norm normalised by its sum has no activation or dropout
			if ti.Spec.Dropout > 0 && w.train {
				for i, m := range w.mask[top][:len(dz)] {
					dz[i] *= m
				}
			}
			if _, ok := w.m.stack[top].(reluBackFused); ok && fuseReLUBackward && f == nil && w.fusesReLU(top) {
				reluBack = true
			} else {
				activationBackward(ti.Spec.Act, w.a[top][:len(dz)], dz, ti.Out.Size())
			}
		}
		w.xs, w.dxs = w.xs[:0], w.dxs[:0]
		_, ownClear := w.m.stack[l].(clearsOwnDx)
		var freshDx uint64
		inputs := w.m.stack[l].Info().Inputs
		for i, src := range inputs {
			x, dx := w.input(src), []T(nil)
			switch {
			case src >= 0 && (w.normed[src] || w.nback[src] != nil): // it reads this layer's gradient as its own (gradBuffers)
			case src >= 0:
				dx = w.grad[src][:len(x)]
			case w.InputGrad != nil:
				dx = w.InputGrad[:len(x)]
			}
			if dx != nil && w.clears[l][i] {
				if ownClear && f == nil && !slices.Contains(inputs[:i], src) {
					freshDx |= 1 << i // the layer clears it part by part (pass.FreshDx)
				} else {
					clear(dx)
				}
			}
			w.xs, w.dxs = append(w.xs, x), append(w.dxs, dx)
		}
		x, dx := w.xs[0], w.dxs[0]
		if j, ok := w.m.stack[l].(joiner[T]); ok {
			p := w.passFor(l)
			p.FreshDx = freshDx
			j.split(p, dz, w.dxs)
		} else if f != nil {
			k := n * ti.Out.Size()
			f.backward(w.passFor(l), x, w.z[top][:k], dz, w.scratch[top][:k], dx)
		} else {
			p := w.passFor(l)
			p.FreshDx, p.ReLUBackward = freshDx, reluBack
			if nb := w.nback[l]; nb != nil {
				nb.z = w.a[l][:len(dz)]
				p.NormBack = nb
			}
			w.m.stack[l].Backward(p, x, dz, dx)
		}
		if w.AfterLayer != nil {
			w.AfterLayer(l)
		}
	}
	w.fresh = false
}

// input is what a layer reading layer src's output (or, for src −1, the
// network's input) read in the last Forward: the activation, or under
// dropout in training its masked copy.
func (w *Workspace[T]) input(src int) []T {
	if src < 0 {
		return w.x
	}
	if w.normed[src] { // no output kept (normsum.go)
		return nil
	}
	info := w.m.stack[src].Info()
	k := w.n * info.Out.Size()
	if info.Spec.Dropout > 0 && w.train {
		return w.out[src][:k]
	}
	return w.a[src][:k]
}
