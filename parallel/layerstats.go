package parallel

import (
	"math"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
)

// LayerStats is one layer's figures for one optimizer step. Every layer
// with parameters has one, in the order of the stack.
//
// The norms are L2 norms over all of the layer's parameters (weight and
// bias together). With a Group they are of the all-reduced gradient and of
// the weights every rank shares, so every rank sees the same figures.
type LayerStats struct {
	Layer string        // model.LayerInfo.Name: dense.0, conv.1, bn.0
	Act   model.ActKind // the layer's activation
	// GradNorm is ‖g‖ of the step's reduced gradient, before clipping.
	GradNorm float64
	// WeightNorm is ‖θ‖ before the step.
	WeightNorm float64
	// UpdateRatio is ‖Δθ‖/‖θ‖ of the step: the optimizer's whole update
	// (clipping, weight decay and momentum included) relative to the
	// weights; CS231n's rule of thumb puts a healthy one near 1e-3. It is
	// NaN when ‖θ‖ is 0.
	UpdateRatio float64
	// DeadFrac, for a ReLU layer, is the fraction of its units whose
	// output was zero for every row of the step's batch — all
	// micro-batches, workers and ranks. A unit is a feature of a flat
	// layer, a channel (all its positions) of an image layer. NaN for
	// other activations.
	DeadFrac float64
	// SaturatedFrac, for a sigmoid or tanh layer, is the fraction of the
	// step's activations within 1% of the output range of an asymptote
	// (sigmoid a ≤ 0.01 or a ≥ 0.99; tanh |a| ≥ 0.98), where the
	// derivative is below 4% of its peak and gradients hardly pass. NaN
	// for other activations.
	SaturatedFrac float64
}

// saturated reports whether activation a of kind k is within 1% of the
// output range of an asymptote.
func saturated[T num.Float](k model.ActKind, a T) bool {
	if k == model.Sigmoid {
		return a <= 0.01 || a >= 0.99
	}
	return a <= -0.98 || a >= 0.98
}

// layerStat is where one layer's figures come from.
type layerStat struct {
	stack  int // index in Model.Layout.Layers
	lo, hi int // its parameters in Params
	act    model.ActKind
	units  int // ReLU: units per sample (features or channels)
	alive  int // ReLU: offset of its elements in a worker's alive buffer
	packed int // offset of its activity figures in statsState.packed
}

// statsState holds the per-layer statistics of a trainer.
//
// Concurrency contract, by phase: in the gradient phase worker w writes alive[w] and
// sat[w] (its own rows' activations); in the reduction (and the check
// after a cross-process sum) it writes grad[w], the Σg² of the part of
// each layer that falls in its chunk; in the update it writes old[w] and
// wsq[b], dsq[b] of the blocks b it claims (update.go). A worker's chunk
// can span layer boundaries, so each worker keeps one partial sum per
// layer; the coordinator adds the workers' partials in worker order, and
// the blocks' in block order, between phases (finish), where it also
// writes packed and out.
type statsState[T num.Float] struct {
	// on: all the figures. Off, the trainer still sums Σg² layer by layer
	// (it costs nothing, and the global norm then rounds the same either
	// way, so that turning statistics off changes no bit of training).
	on     bool
	layers []layerStat
	out    []LayerStats // the last step's figures, handed out on StepResult
	grad   [][]float64  // [worker][layer] Σg² of the worker's chunk ∩ layer
	wsq    []float64    // [block] Σθ² before the update (Trainer.blocks)
	dsq    []float64    // [block] Σ(Δθ)² of the update
	old    [][]T        // [worker] a block of θ before the update
	alive  [][]T        // [worker] per ReLU unit: Σ over the worker's rows and the unit's positions of a
	sat    [][]int64    // [worker] per layer: saturated activations, activations
	// packed is the step's activity, summed over workers (and ranks): per
	// ReLU layer one sum per unit, per sigmoid/tanh layer the saturated
	// and the total count.
	packed []float64
}

// applyBlock is how many parameters the optimizer updates at a time (the
// update phase's unit of work, update.go): with statistics on, a copy of
// the block's weights before the update stays in the L1 cache for the
// difference after it (8 KiB in float32).
const applyBlock = 2048

func newStatsState[T num.Float](m *model.Model[T], workers int, on bool) *statsState[T] {
	st := &statsState[T]{on: on}
	nAlive := 0
	for _, g := range m.Layout.Groups {
		info := &m.Layout.Layers[g.Layer]
		l := layerStat{stack: g.Layer, lo: g.Lo, hi: g.Hi, act: info.Spec.Act.Kind, packed: len(st.packed)}
		ls := LayerStats{Layer: info.Name, Act: l.act, DeadFrac: math.NaN(), SaturatedFrac: math.NaN()}
		switch l.act {
		case model.ReLU:
			l.units = info.Out[0]
			l.alive = nAlive
			nAlive += l.units
			st.packed = append(st.packed, make([]float64, l.units)...)
		case model.Sigmoid, model.Tanh:
			st.packed = append(st.packed, 0, 0)
		}
		st.layers = append(st.layers, l)
		st.out = append(st.out, ls)
	}
	k := len(st.layers)
	for range workers {
		st.grad = append(st.grad, make([]float64, k))
		st.old = append(st.old, num.Alloc[T](applyBlock))
		st.alive = append(st.alive, num.Alloc[T](nAlive))
		st.sat = append(st.sat, make([]int64, 2*k))
	}
	return st
}

// resetActivity is worker w's start of a step (the gradient phase, first
// micro-batch): its activation counts start from zero.
func (t *Trainer[T]) resetActivity(w int) {
	if st := t.st; st.on {
		clear(st.alive[w])
		clear(st.sat[w])
	}
}

// observe adds the activations of worker w's last training Forward (n
// rows) to its counts: for ReLU the per-element sums (a ≥ 0, so a sum is
// zero exactly when every term is), for sigmoid and tanh the saturated
// count.
func (t *Trainer[T]) observe(w, n int) {
	st := t.st
	if !st.on || n == 0 {
		return
	}
	ws := t.ws[w]
	for k := range st.layers {
		l := &st.layers[k]
		switch l.act {
		case model.ReLU:
			ws.AddActivity(l.stack, st.alive[w][l.alive:l.alive+l.units])
		case model.Sigmoid, model.Tanh:
			a := ws.Activation(l.stack)
			var c int64
			for _, v := range a {
				if saturated(l.act, v) {
					c++
				}
			}
			st.sat[w][2*k] += c
			st.sat[w][2*k+1] += int64(len(a))
		}
	}
}

// activity sums the workers' activation counts, in worker order, into
// packed and returns it (nil with statistics off). The coordinator calls
// it after the step's last gradient phase; across processes finish then sums
// packed over the ranks with the step's loss.
func (t *Trainer[T]) activity() []float64 {
	st := t.st
	if !st.on {
		return nil
	}
	clear(st.packed)
	for w := range t.ws {
		for k := range st.layers {
			l := &st.layers[k]
			switch l.act {
			case model.ReLU:
				for u, v := range st.alive[w][l.alive : l.alive+l.units] {
					st.packed[l.packed+u] += float64(v)
				}
			case model.Sigmoid, model.Tanh:
				st.packed[l.packed] += float64(st.sat[w][2*k])
				st.packed[l.packed+1] += float64(st.sat[w][2*k+1])
			}
		}
	}
	return st.packed
}

// chunkSumSq returns Σg² over g, worker w's chunk c of the reduced
// gradient, and keeps the part of each layer in grad[w]. exact accumulates
// in float64 (after the vectorised pass overflowed T); otherwise it is one
// vectorised pass (sumSq) per layer piece.
func (t *Trainer[T]) chunkSumSq(w int, c [2]int, g []T, exact bool) float64 {
	sq := func(x []T) float64 {
		if exact {
			return num.SumSquares(x)
		}
		return sumSq(x)
	}
	st := t.st
	var total float64
	for k := range st.layers {
		l := &st.layers[k]
		st.grad[w][k] = 0
		if a, b := max(l.lo, c[0]), min(l.hi, c[1]); a < b {
			st.grad[w][k] = sq(g[a-c[0] : b-c[0]])
			total += st.grad[w][k]
		}
	}
	return total
}

// layerFigures adds the workers' partial sums in worker order, the
// update's block sums in block order, and the
// step's activity (packed, already summed across ranks) into the
// figures, and returns them: the trainer's buffer, rewritten by the next
// step. Coordinator only, after the update.
func (t *Trainer[T]) layerFigures() []LayerStats {
	st := t.st
	if !st.on {
		return nil
	}
	b := 0 // the blocks are in layer order
	for k := range st.layers {
		l := &st.layers[k]
		var g, wsq, dsq float64
		for w := range t.ws {
			g += st.grad[w][k]
		}
		for ; b < len(t.blocks) && t.blocks[b].layer <= k; b++ {
			if t.blocks[b].layer == k {
				wsq += st.wsq[b]
				dsq += st.dsq[b]
			}
		}
		o := &st.out[k]
		o.GradNorm, o.WeightNorm = math.Sqrt(g), math.Sqrt(wsq)
		o.UpdateRatio = math.NaN()
		if wsq > 0 {
			o.UpdateRatio = math.Sqrt(dsq / wsq)
		}
		switch l.act {
		case model.ReLU:
			dead := 0
			for _, v := range st.packed[l.packed : l.packed+l.units] {
				if v == 0 {
					dead++
				}
			}
			o.DeadFrac = float64(dead) / float64(l.units)
		case model.Sigmoid, model.Tanh:
			o.SaturatedFrac = math.NaN()
			if n := st.packed[l.packed+1]; n > 0 {
				o.SaturatedFrac = st.packed[l.packed] / n
			}
		}
	}
	return st.out
}
