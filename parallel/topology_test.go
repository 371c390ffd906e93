package parallel

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

func TestTreeOrder(t *testing.T) {
	for _, c := range []struct {
		n, active int
		want      [][2]int
	}{
		{1, 1, nil},
		{2, 2, [][2]int{{0, 1}}},
		{2, 1, nil},
		{3, 3, [][2]int{{0, 1}, {0, 2}}}, // worker order, as before trees
		{4, 4, [][2]int{{0, 1}, {2, 3}, {0, 2}}},
		{4, 3, [][2]int{{0, 1}, {0, 2}}}, // worker 3 has no rows: +0 left out
		{4, 1, nil},
		{6, 6, [][2]int{{0, 1}, {0, 2}, {3, 4}, {3, 5}, {0, 3}}}, // 2 × 3: root splits at 3
		{8, 8, [][2]int{{0, 1}, {2, 3}, {0, 2}, {4, 5}, {6, 7}, {4, 6}, {0, 4}}},
	} {
		if got := treeOrder(c.n, c.active); !slices.Equal(got, c.want) {
			t.Errorf("treeOrder(%d, %d) = %v, want %v", c.n, c.active, got, c.want)
		}
	}
}

// TestRankShardMatchesGlobalWorkers: rank r's worker k gets exactly the
// rows of global worker r·W+k of a one-process run with S·W workers.
func TestRankShardMatchesGlobalWorkers(t *testing.T) {
	for n := 0; n <= 40; n++ {
		for size := 1; size <= 4; size++ {
			for w := 1; w <= 4; w++ {
				next := 0
				for r := range size {
					lo, hi := rankShard(n, size, r, w)
					if lo != next {
						t.Fatalf("n=%d %d×%d: rank %d starts at %d, want %d", n, size, w, r, lo, next)
					}
					next = hi
					for k := range w {
						a, b := data.Shard(hi-lo, w, k)
						ga, gb := data.Shard(n, size*w, r*w+k)
						if lo+a != ga || lo+b != gb {
							t.Fatalf("n=%d %d×%d: rank %d worker %d has rows [%d,%d), global worker %d has [%d,%d)", n, size, w, r, k, lo+a, lo+b, r*w+k, ga, gb)
						}
					}
				}
				if next != n {
					t.Fatalf("n=%d %d×%d: the ranks cover %d rows", n, size, w, next)
				}
			}
		}
	}
}

// fakeWorld is a Group of in-process ranks (goroutines) that sums in rank
// order, as an MPI library does for 2 ranks up to commutation (a+b = b+a
// exactly in IEEE arithmetic).
type fakeWorld struct {
	mu      sync.Mutex
	cond    *sync.Cond
	size    int
	arrived int
	gen     int
	parts   []any
}

func newFakeWorld(size int) *fakeWorld {
	f := &fakeWorld{size: size, parts: make([]any, size)}
	f.cond = sync.NewCond(&f.mu)
	return f
}

func (f *fakeWorld) barrier() {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.gen
	if f.arrived++; f.arrived == f.size {
		f.arrived, f.gen = 0, f.gen+1
		f.cond.Broadcast()
		return
	}
	for g == f.gen {
		f.cond.Wait()
	}
}

// collective posts buf, waits for every rank's, computes this rank's
// result from them, waits until every rank has read, then writes it.
func collective[E float32 | float64](f *fakeWorld, rank int, buf []E, op func(parts [][]E, out []E)) {
	f.parts[rank] = buf
	f.barrier()
	parts := make([][]E, f.size)
	for r := range parts {
		parts[r] = f.parts[r].([]E)
	}
	out := make([]E, len(buf))
	op(parts, out)
	f.barrier()
	copy(buf, out)
}

func sumParts[E float32 | float64](parts [][]E, out []E) {
	copy(out, parts[0])
	for _, p := range parts[1:] {
		for i, x := range p {
			out[i] += x
		}
	}
}

type fakeRank struct {
	w    *fakeWorld
	rank int
}

func (r fakeRank) Rank() int { return r.rank }
func (r fakeRank) Size() int { return r.w.size }
func (r fakeRank) AllReduce32(b []float32) error {
	collective(r.w, r.rank, b, sumParts[float32])
	return nil
}
func (r fakeRank) AllReduce64(b []float64) error {
	collective(r.w, r.rank, b, sumParts[float64])
	return nil
}
func (r fakeRank) Broadcast32(b []float32, root int) error {
	collective(r.w, r.rank, b, func(p [][]float32, out []float32) { copy(out, p[root]) })
	return nil
}
func (r fakeRank) Broadcast64(b []float64, root int) error {
	collective(r.w, r.rank, b, func(p [][]float64, out []float64) { copy(out, p[root]) })
	return nil
}

// fitRanks fits spec in float32 on ranks × workers (ranks goroutines of a
// fakeWorld) and returns rank 0's model.
func fitRanks(t *testing.T, spec string, ranks, workers int, overlap bool, train, val *data.Dataset) *model.Model[float32] {
	t.Helper()
	return fitRanksAccum(t, spec, ranks, workers, overlap, 2, train, val)
}

// fitRanksAccum is fitRanks with accum micro-batches per step.
func fitRanksAccum(t *testing.T, spec string, ranks, workers int, overlap bool, accum int, train, val *data.Dataset) *model.Model[float32] {
	t.Helper()
	models := make([]*model.Model[float32], ranks)
	errs := make([]error, ranks)
	world := newFakeWorld(ranks)
	var wg sync.WaitGroup
	for r := range ranks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, _ := model.New[float32](model.MustParseSpec(spec), 3)
			cfg := optim.Defaults(optim.Momentum)
			cfg.LR = 0.01
			opt, _ := optim.New[float32](cfg, len(m.Params))
			var g Group
			if ranks > 1 {
				g = fakeRank{world, r}
			}
			tr, err := New(m, opt, Config{Workers: workers, Loss: model.CrossEntropy, Seed: 5, Group: g, Overlap: overlap, NoLayerStats: true})
			if err == nil {
				_, err = tr.Fit(context.Background(), train, val, FitConfig{Epochs: 3, BatchSize: 32, Shuffle: true, Seed: 9, Accum: accum})
			}
			models[r], errs[r] = m, err
		}()
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("%d×%d rank %d: %v", ranks, workers, r, err)
		}
	}
	return models[0]
}

// TestTopologiesBitIdenticalFloat32: the in-process sums follow the
// pairwise tree over the global worker index, and each rank's workers get
// their global workers' rows, so in float32 2 ranks × W workers train bit
// for bit what 1 × 2W do — gradients, batch norm's sums (and its running
// statistics), the overlap path — with epochs ending on a micro-batch of
// one row, which leaves ranks and workers without rows.
func TestTopologiesBitIdenticalFloat32(t *testing.T) {
	ds, _ := data.Synthetic("blobs", 301, 1)
	train, val, _ := ds.Split(0.2, 2)
	for _, c := range []struct {
		spec    string
		w       int
		overlap bool
	}{
		{"2-24:tanh:dropout=0.2-16:relu-3:softmax", 2, false},
		{"2-24:tanh:dropout=0.2-16:relu-3:softmax", 2, true},
		{"2-24:tanh:dropout=0.2-16:relu-3:softmax", 1, true},
		{"2-24:tanh:dropout=0.2-16:relu-3:softmax", 3, false},
		{"2x1x1-conv(6,1)-bn:relu-flatten-8:tanh:dropout=0.2-bn-3:softmax", 2, false},
		{"2x1x1-conv(4,1):relu-res(conv(4,1):relu-conv(4,1)):relu:dropout=0.2-res(conv(6,1):tanh|conv(6,1)):relu-gap-3:softmax", 2, true},
	} {
		t.Run(fmt.Sprintf("%s/2x%d/overlap=%v", c.spec, c.w, c.overlap), func(t *testing.T) {
			want := fitRanks(t, c.spec, 1, 2*c.w, false, train, val)
			got := fitRanks(t, c.spec, 2, c.w, c.overlap, train, val)
			for i := range want.Params {
				if got.Params[i] != want.Params[i] {
					t.Fatalf("parameter %d: 2×%d gives %v, 1×%d %v", i, c.w, got.Params[i], 2*c.w, want.Params[i])
				}
			}
			for i := range want.Buffers {
				if got.Buffers[i] != want.Buffers[i] {
					t.Fatalf("running statistic %d: 2×%d gives %v, 1×%d %v", i, c.w, got.Buffers[i], 2*c.w, want.Buffers[i])
				}
			}
		})
	}
}

// TestAllReduceFollowsTheTree: the reduction adds the workers' gradients
// as (g0+g1)+(g2+g3) — not ((g0+g1)+g2)+g3 — in every element, also across
// the blocks of treeSum (chunks here span several) and with a worker
// without rows.
func TestAllReduceFollowsTheTree(t *testing.T) {
	m, _ := model.New[float32](model.MustParseSpec("100-400:relu-50:softmax"), 1)
	opt, _ := optim.New[float32](optim.Defaults(optim.SGD), len(m.Params))
	tr, err := New(m, opt, Config{Workers: 4, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	if c := tr.chunk[1]; c[1]-c[0] < 3*treeBlock {
		t.Fatalf("chunk of %d elements: the test wants several blocks", c[1]-c[0])
	}
	for _, active := range []int{4, 3} {
		err = tr.Run(context.Background(), func(s *Session[float32]) error {
			g := s.grads()
			x := uint32(1)
			for k := range g {
				for i := range g[k] {
					x = x*1664525 + 1013904223 // any values: most sums round differently in another order
					g[k][i] = float32(x>>8) / (1 << 24)
				}
			}
			for k := active; k < 4; k++ {
				clear(g[k])
			}
			want := make([]float32, len(g[0]))
			for i := range want {
				want[i] = (g[0][i] + g[1][i]) + (g[2][i] + g[3][i])
			}
			s.task.active, s.task.firstOnly, s.task.l1, s.task.scan = active, false, false, true
			if err := s.dispatch(phaseReduce); err != nil {
				return err
			}
			for i := range want {
				if g[0][i] != want[i] {
					return fmt.Errorf("%d active: element %d is %v, the tree gives %v", active, i, g[0][i], want[i])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestTopologiesBitIdenticalWithSplit: with the split weight gradients
// (split.go; steps of one micro-batch, every dense layer split), 2 ranks ×
// 2 workers still train bit for bit what 1 × 4 do in float32: each rank's
// pair of workers is one of the 4-worker tree's lowest pairs, one product
// over both shards; on the overlap path the ranks do not split, which on
// ptrain's own kernels gives the same bits again (the product over a pair
// equals the pair's sum only within rounding). 2 × 1 add two products
// that 1 × 2 computes as one: within rounding, not bit for bit.
func TestTopologiesBitIdenticalWithSplit(t *testing.T) {
	ds, _ := data.Synthetic("blobs", 301, 1)
	train, val, _ := ds.Split(0.2, 2)
	spec := "2-24:tanh:dropout=0.2-16:relu-3:softmax"
	for _, c := range []struct {
		w       int
		overlap bool
	}{{2, false}, {1, false}, {2, true}} {
		t.Run(fmt.Sprintf("2x%d/overlap=%v", c.w, c.overlap), func(t *testing.T) {
			withSplit(1<<20, 1, func() {
				want := fitRanksAccum(t, spec, 1, 2*c.w, false, 1, train, val)
				got := fitRanksAccum(t, spec, 2, c.w, c.overlap, 1, train, val)
				var tol float32
				if c.w == 1 || c.overlap {
					tol = 1e-4
				}
				for i := range want.Params {
					if d := got.Params[i] - want.Params[i]; d > tol || d < -tol {
						t.Fatalf("parameter %d: 2×%d gives %v, 1×%d %v", i, c.w, got.Params[i], 2*c.w, want.Params[i])
					}
				}
			})
		})
	}
}

// TestTopologiesSplitDecidedOnTheGlobalBatch: whether a step splits must
// be decided on the global micro-batch's rows per worker, not on this
// rank's: with 17 rows the 4 global workers' shards are 5, 4, 4, 4, so at
// 4 rows per worker 1 × 4 does not split; rank 1 of 2 × 2 holds only 4 +
// 4 rows and, deciding on its own share, once split its pair (one product
// over both shards, not two products added) and lost 1 × 4's bits.
func TestTopologiesSplitDecidedOnTheGlobalBatch(t *testing.T) {
	ds, _ := data.Synthetic("blobs", 301, 1)
	train, val, _ := ds.Split(0.2, 2)
	if train.N%32 != 17 {
		t.Fatalf("the training set has %d rows: the last batch is not the 17 rows this test needs", train.N)
	}
	spec := "2-24:tanh:dropout=0.2-16:relu-3:softmax"
	withSplit(4, 1, func() {
		want := fitRanksAccum(t, spec, 1, 4, false, 1, train, val)
		got := fitRanksAccum(t, spec, 2, 2, false, 1, train, val)
		for i := range want.Params {
			if got.Params[i] != want.Params[i] {
				t.Fatalf("parameter %d: 2×2 gives %v, 1×4 %v", i, got.Params[i], want.Params[i])
			}
		}
	})
}
