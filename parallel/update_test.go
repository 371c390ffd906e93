package parallel

import (
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// The update's blocks tile the parameters, each inside one layer (or a
// gap) and no longer than applyBlock, and the shares give every block to
// exactly one worker: the one whose chunk it starts in.
func TestUpdateBlocksTileTheParameters(t *testing.T) {
	for _, c := range []struct {
		spec    string
		workers int
	}{
		{"784-256:relu-128:relu-10:softmax", 1},
		{"784-256:relu-128:relu-10:softmax", 2},
		{"784-256:relu-128:relu-10:softmax", 7},
		{"2-3:tanh-2:softmax", 4}, // fewer blocks than workers
		{"1x8x8-conv(4,3)-bn:relu-flatten-10:softmax", 3},
	} {
		m, err := model.New[float32](model.MustParseSpec(c.spec), 1)
		if err != nil {
			t.Fatal(err)
		}
		opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
		tr, err := New(m, opt, Config{Workers: c.workers, Loss: model.CrossEntropy})
		if err != nil {
			t.Fatal(err)
		}
		at := 0
		for b, blk := range tr.blocks {
			if blk.lo != at || blk.hi <= blk.lo || blk.hi-blk.lo > applyBlock {
				t.Fatalf("%s: block %d is %+v after %d", c.spec, b, blk, at)
			}
			if blk.layer >= 0 {
				if l := tr.st.layers[blk.layer]; blk.lo < l.lo || blk.hi > l.hi {
					t.Fatalf("%s: block %d %+v leaves its layer [%d, %d)", c.spec, b, blk, l.lo, l.hi)
				}
			}
			at = blk.hi
		}
		if at != len(m.Params) {
			t.Fatalf("%s: the blocks end at %d of %d parameters", c.spec, at, len(m.Params))
		}
		next := int32(0)
		for w := range tr.shares {
			sh := &tr.shares[w]
			if sh.lo != next || sh.hi < sh.lo {
				t.Fatalf("%s, %d workers: worker %d has blocks [%d, %d) after %d", c.spec, c.workers, w, sh.lo, sh.hi, next)
			}
			for b := sh.lo; b < sh.hi; b++ {
				if lo := tr.blocks[b].lo; (lo < tr.chunk[w][0] || lo >= tr.chunk[w][1]) && w < c.workers-1 {
					t.Fatalf("%s, %d workers: worker %d's block %d starts at %d, outside its chunk %v", c.spec, c.workers, w, b, lo, tr.chunk[w])
				}
			}
			next = sh.hi
		}
		if int(next) != len(tr.blocks) {
			t.Fatalf("%s, %d workers: the shares end at block %d of %d", c.spec, c.workers, next, len(tr.blocks))
		}
	}
}

// Who claims which block changes no bit of the update, of the optimizer's
// state or of the update's statistics: one worker taking every block, the
// last one taking every block, and all of them at once give the same.
func TestUpdateSameWhoeverClaimsTheBlocks(t *testing.T) {
	const workers = 3
	spec := model.MustParseSpec("64-128:relu-32:tanh-10:softmax")
	type outcome struct {
		params, state []float32
		wsq, dsq      []float64
	}
	run := func(claim func(tr *Trainer[float32])) outcome {
		m, err := model.New[float32](spec, 4)
		if err != nil {
			t.Fatal(err)
		}
		cfg := optim.Defaults(optim.Momentum)
		cfg.WeightDecay = 0.01
		opt, _ := optim.New[float32](cfg, len(m.Params))
		tr, err := New(m, opt, Config{Workers: workers, Loss: model.CrossEntropy, ClipValue: 0.05})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 3 {
			for i := range tr.ws[0].Grad {
				tr.ws[0].Grad[i] = float32(rng.NormFloat64() / 10)
			}
			tr.opt.Begin()
			tr.resetUpdate()
			claim(tr)
		}
		var state []float32
		st := opt.State()
		for _, k := range slices.Sorted(maps.Keys(st.Buffers)) {
			state = append(state, st.Buffers[k]...)
		}
		return outcome{slices.Clone(m.Params), state, slices.Clone(tr.st.wsq), slices.Clone(tr.st.dsq)}
	}
	const coef = 0.75
	first := run(func(tr *Trainer[float32]) { tr.update(0, coef) })
	// The reference: the step as one serial pass over all parameters.
	ref := run(func(tr *Trainer[float32]) {
		g := tr.ws[0].Grad
		num.Scal(coef, g)
		optim.ClipValue(g, 0.05)
		tr.opt.Apply(tr.m.Params, g, 0, len(g))
	})
	if !slices.Equal(ref.params, first.params) || !slices.Equal(ref.state, first.state) || len(ref.state) == 0 {
		t.Fatalf("worker 0 alone updates differently from one serial pass")
	}
	for name, claim := range map[string]func(tr *Trainer[float32]){
		"the last worker alone": func(tr *Trainer[float32]) { tr.update(workers-1, coef) },
		"all at once": func(tr *Trainer[float32]) {
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() { tr.update(w, coef) })
			}
			wg.Wait()
		},
	} {
		got := run(claim)
		if !slices.Equal(got.params, first.params) || !slices.Equal(got.state, first.state) || !slices.Equal(got.wsq, first.wsq) || !slices.Equal(got.dsq, first.dsq) {
			t.Errorf("%s: the update differs from worker 0's alone", name)
		}
	}
}

// The owner claims a share's blocks from the front, in order, helpers from
// the back, and every block goes to exactly one of them.
func TestUpdateShareClaimsEachBlockOnce(t *testing.T) {
	sh := &updateShare{lo: 5, hi: 5 + 1000}
	for range 20 {
		sh.left.Store(uint64(sh.hi - sh.lo))
		got := make([][]int, 3)
		var wg sync.WaitGroup
		for k := range got {
			wg.Go(func() {
				for {
					b, ok := sh.claim(k == 0)
					if !ok {
						return
					}
					got[k] = append(got[k], b)
				}
			})
		}
		wg.Wait()
		if !slices.IsSorted(got[0]) || len(got[0]) > 0 && got[0][0] != 5 {
			t.Fatalf("the owner claimed %v, not from the front in order", got[0])
		}
		seen := make([]int, sh.hi)
		for k, bs := range got {
			if k > 0 && !slices.IsSortedFunc(bs, func(a, b int) int { return b - a }) {
				t.Fatalf("helper %d claimed %v, not from the back", k, bs)
			}
			for _, b := range bs {
				seen[b]++
			}
		}
		for b := sh.lo; b < sh.hi; b++ {
			if seen[b] != 1 {
				t.Fatalf("block %d claimed %d times", b, seen[b])
			}
		}
		if _, ok := sh.claim(true); ok {
			t.Fatal("a claim succeeded after every block was taken")
		}
	}
}

// The update's per-layer statistics are summed per block and the blocks
// do not depend on the workers' chunks, so 1 to 5 workers, all claiming at
// once, give the same Σθ² and Σ(Δθ)² bit for bit (as well as the same
// update) from the same gradient: a layer's figures never depend on where
// the chunks cut it (parallel/doc.go, update.go).
func TestUpdateStatisticsSameForAnyWorkerCount(t *testing.T) {
	// 3 layers of 8,320, 4,128 and 330 parameters: 5 chunk counts cut
	// them at many places, inside blocks and between them.
	spec := model.MustParseSpec("64-128:relu-32:tanh-10:softmax")
	for _, typ := range []string{"float32", "float64"} {
		var ref [4][]float64
		for workers := 1; workers <= 5; workers++ {
			var got [4][]float64
			if typ == "float32" {
				got = updateAllWorkers[float32](t, spec, workers)
			} else {
				got = updateAllWorkers[float64](t, spec, workers)
			}
			if workers == 1 {
				ref = got
				continue
			}
			for i, name := range []string{"parameters", "optimizer state", "Σθ² per block", "Σ(Δθ)² per block"} {
				if !slices.Equal(got[i], ref[i]) {
					t.Errorf("%s, %d workers: %s differ from 1 worker's", typ, workers, name)
				}
			}
		}
	}
}

// updateAllWorkers runs 3 update phases of Adam with clipping, every worker
// claiming at once, from the same gradients whatever workers is, and
// returns the parameters, the optimizer state and the last phase's
// statistics, as float64.
func updateAllWorkers[T num.Float](t *testing.T, spec model.Spec, workers int) [4][]float64 {
	t.Helper()
	m, err := model.New[T](spec, 4)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New[T](optim.Defaults(optim.Adam), len(m.Params))
	tr, err := New(m, opt, Config{Workers: workers, Loss: model.CrossEntropy, ClipValue: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 3 {
		for i := range tr.ws[0].Grad {
			tr.ws[0].Grad[i] = T(rng.NormFloat64() / 10)
		}
		tr.opt.Begin()
		tr.resetUpdate()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { tr.update(w, 0.5) })
		}
		wg.Wait()
	}
	f64 := func(v []T) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	var state []T
	st := opt.State()
	for _, k := range slices.Sorted(maps.Keys(st.Buffers)) {
		state = append(state, st.Buffers[k]...)
	}
	return [4][]float64{f64(m.Params), f64(state), slices.Clone(tr.st.wsq), slices.Clone(tr.st.dsq)}
}
