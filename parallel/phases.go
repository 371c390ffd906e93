package parallel

import (
	"math"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
)

// runPhase is the work of worker w in phase p.
func (t *Trainer[T]) runPhase(w int, p phase, tk *task[T]) {
	r := &t.res[w]
	*r = result{badIndex: -1}

	switch p {
	case phaseEval:
		t.evalShard(w, tk)
	case phaseGrad:
		ws := t.ws[w]
		lo, hi := data.Shard(tk.n, t.cfg.Workers, w)
		skip := hi == lo && t.bsync == nil
		if tk.zero {
			if skip {
				ws.ZeroGrad() // no Backward comes to write it
			} else {
				ws.ResetGrad() // Backward writes the dense layers' parts
			}
			t.resetActivity(w)
			copy(ws.Running, t.m.Buffers) // the step's running statistics start from the model's
		}
		if skip {
			return // a worker without rows takes part only in batch statistics
		}
		in, out := t.inputs, t.outputs
		// Rows always go through the worker's own aligned buffers (a copy
		// of caller-filled rows costs microseconds): the GEMMs then see the
		// same alignment in every run, which bit-for-bit repeatability
		// with SIMD BLAS needs (see num.Alloc).
		x, y := t.xbuf[w], t.ybuf[w]
		if tk.split && t.splitInput(w, tk.n) != nil {
			x = t.splitInput(w, tk.n) // where the split reads the first layer's X (split.go)
		}
		start := time.Now()
		if tk.ds != nil && tk.aug != nil {
			for r, i := range tk.idx[lo:hi] {
				data.FillRowAugmented(tk.ds, i, tk.aug, tk.epoch, x[r*in:(r+1)*in])
				data.FillTarget(tk.ds, i, y[r*out:(r+1)*out])
			}
		} else if tk.ds != nil {
			for r, i := range tk.idx[lo:hi] {
				data.FillRow(tk.ds, i, x[r*in:(r+1)*in])
				data.FillTarget(tk.ds, i, y[r*out:(r+1)*out])
			}
		} else {
			copy(x, tk.x[lo*in:hi*in])
			copy(y, tk.y[lo*out:hi*out])
		}
		t0 := time.Now()
		r.data = t0.Sub(start)
		ws.SetDropoutStream(t.cfg.Seed, uint64(tk.step), tk.rowBase+lo)
		pred := ws.Forward(x, hi-lo, true)
		t.observe(w, hi-lo)
		t1 := time.Now()
		r.fwd = t1.Sub(t0)
		r.loss = ws.LossGrad(t.cfg.Loss, y, tk.denom)
		ws.Backward()
		r.bwd = time.Since(t1)
		r.correct = tally(pred, y, hi-lo, out, nil)
	case phaseReduce, phaseCheck:
		c := t.chunk[w]
		if p == phaseReduce && tk.firstOnly {
			c = t.firstChunk[w]
		}
		g := t.ws[0].Grad[c[0]:c[1]]
		order := t.order[tk.active]
		split := p == phaseReduce && tk.split
		if split {
			t.splitGrads(order, w, tk.n, c) // the deferred weight gradients (split.go)
		}
		if p == phaseReduce && tk.scan && !tk.l1 {
			// The tree's last addition and the check in one pass: the
			// scan below reads r.sumSq exactly as computed apart.
			r.sumSq = t.treeSumSq(order, w, c, split)
		} else {
			if p == phaseReduce {
				// Along the fixed tree (tree.go), in place: the other workers'
				// chunks hold partial sums afterwards.
				t.treeSumExcept(order, c[0], c[1], split)
			}
			if tk.l1 {
				t.addL1(g, c[0])
			}
			if p == phaseReduce && !tk.scan {
				return // processes sum it again; phaseCheck scans that sum
			}
			r.sumSq = t.chunkSumSq(w, c, g, false)
		}
		// Σg² is NaN or Inf iff some element is (or the squares overflow
		// T, in which case the scan finds nothing and the exact float64
		// sum is taken instead).
		if math.IsNaN(r.sumSq) || math.IsInf(r.sumSq, 0) {
			for i, v := range g {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					r.nonFinite, r.badIndex, r.badValue = true, c[0]+i, float64(v)
					return
				}
			}
			r.sumSq = t.chunkSumSq(w, c, g, true)
		}
	case phaseApply:
		t.update(w, tk.coef)
	}
}

// addL1 adds L1·sign(w) to g, the gradient of Params[off:off+len(g)], at
// the positions of weights (model.RoleWeight: dense and conv); biases and
// batch norm's scales have no L1 term (Keras's kernel_regularizer).
func (t *Trainer[T]) addL1(g []T, off int) {
	l1 := T(t.cfg.L1)
	for _, w := range t.weights {
		lo, hi := max(w.Offset, off), min(w.Offset+w.Size(), off+len(g))
		for i := lo; i < hi; i++ {
			switch w := t.m.Params[i]; {
			case w > 0:
				g[i-off] += l1
			case w < 0:
				g[i-off] -= l1
			}
		}
	}
}

// tally counts the rows whose predicted class (model.Class) matches the
// target's, and adds them to counts if it is not nil. For regression
// targets the count is meaningless and ignored by callers.
func tally[T num.Float](pred, y []T, n, out int, counts *classCounts) int64 {
	var correct int64
	for r := 0; r < n; r++ {
		p, want := model.Class(pred[r*out:(r+1)*out]), model.Class(y[r*out:(r+1)*out])
		if p == want {
			correct++
		}
		if counts != nil {
			counts.add(want, p)
		}
	}
	return correct
}
