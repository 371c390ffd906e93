package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ptrain/ptrain/model/num"
)

// TestColumnSplitMatchesUnsplit runs workspaces that split their first
// dense layer by columns concurrently, as the trainer's workers do, and
// checks every workspace's output and gradient against a workspace running
// its rows alone, bit for bit: with rows of every part count, columns
// that are not whole panels, a part without columns (where panels are
// 32 wide, AVX-512's float32), dropout after the split layer, and after the
// weights change between rounds (a split that kept an old packing fails
// there).
func TestColumnSplitMatchesUnsplit(t *testing.T) {
	for _, c := range []struct {
		spec string
		rows []int
	}{
		{"784-256:relu-128:relu-10:softmax", []int{16, 16}},
		{"784-256:relu-128:relu-10:softmax", []int{11, 11, 10}},
		{"300-100:tanh:dropout=0.3-7:softmax", []int{1, 9, 3, 7}},
		{"300-100:tanh:dropout=0.3-7:softmax", []int{40}},
		{"64-33:relu-2:softmax", []int{3, 4}},
		{"64-33:relu-2:softmax", []int{3, 4, 2}}, // more parts than panels: a part without columns
	} {
		t.Run(fmt.Sprintf("%s/%v", c.spec, c.rows), func(t *testing.T) {
			checkColumnSplit[float32](t, c.spec, c.rows)
			checkColumnSplit[float64](t, c.spec, c.rows)
		})
	}
}

func checkColumnSplit[T num.Float](t *testing.T, spec string, rows []int) {
	m, err := New[T](MustParseSpec(spec), 7)
	if err != nil {
		t.Fatal(err)
	}
	in, out := m.Spec.Inputs, m.Spec.Outputs()
	bounds := []int{0}
	for _, n := range rows {
		bounds = append(bounds, bounds[len(bounds)-1]+n)
	}
	n := bounds[len(bounds)-1]
	pack := NewSharedPack(m)
	if !pack.CanSplitColumns(m, 0) {
		t.Skipf("%T: no packing of the first layer for the running kernels in this build or on this CPU", T(0))
	}
	rng := rand.New(rand.NewPCG(24, 4))
	x := make([]T, n*in)
	y := make([]T, n*out)
	z := make([]T, n*m.Layout.Layers[0].Out[0])
	ws := make([]*Workspace[T], len(rows))
	for k := range rows {
		ws[k] = NewWorkspace(m, rows[k])
		ws[k].Pack, ws[k].Part = pack, k
	}
	for round := range 3 {
		for i := range x {
			x[i] = T(rng.NormFloat64())
		}
		for r := range n {
			y[r*out+rng.IntN(out)] = 1
		}
		pack.SplitColumns(m, 0, x, z, n, bounds)
		pack.Invalidate()
		outs, grads := make([][]T, len(rows)), make([][]T, len(rows))
		var wg sync.WaitGroup
		for k := range rows {
			wg.Go(func() {
				lo, hi := bounds[k], bounds[k+1]
				ws[k].SetDropoutStream(5, uint64(round), lo)
				outs[k] = append([]T(nil), ws[k].Forward(x[lo*in:hi*in], hi-lo, true)...)
				ws[k].ZeroGrad()
				ws[k].LossGrad(CrossEntropy, y[lo*out:hi*out], float64(n))
				ws[k].Backward()
				grads[k] = append([]T(nil), ws[k].Grad...)
			})
		}
		wg.Wait()
		pack.NoSplit()
		for k := range rows {
			lo, hi := bounds[k], bounds[k+1]
			alone := NewWorkspace(m, hi-lo)
			alone.SetDropoutStream(5, uint64(round), lo)
			want := alone.Forward(x[lo*in:hi*in], hi-lo, true)
			alone.ZeroGrad()
			alone.LossGrad(CrossEntropy, y[lo*out:hi*out], float64(n))
			alone.Backward()
			sameBits(t, fmt.Sprintf("round %d, part %d: output", round, k), outs[k], want)
			sameBits(t, fmt.Sprintf("round %d, part %d: gradient", round, k), grads[k], alone.Grad)
		}
		for j := range m.Params { // the next round's weights
			m.Params[j] += T(rng.NormFloat64()) * 0.01
		}
		clear(y)
	}
}

func sameBits[T num.Float](t *testing.T, what string, got, want []T) {
	t.Helper()
	for i := range want {
		if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
			t.Fatalf("%s %d: split %v, alone %v", what, i, got[i], want[i])
		}
	}
}

// splittable is a model whose first layer (784→256) a SharedPack of it
// can split by columns; it skips the test where none can (purego, a CPU
// without AVX2).
func splittable(t *testing.T) (*Model[float32], *SharedPack[float32]) {
	t.Helper()
	m, err := New[float32](MustParseSpec("784-256:relu-10:softmax"), 7)
	if err != nil {
		t.Fatal(err)
	}
	pack := NewSharedPack(m)
	if !pack.CanSplitColumns(m, 0) {
		t.Skip("no packing of the first layer for the running kernels in this build or on this CPU")
	}
	return m, pack
}

// TestColumnSplitLeavesEvaluationAlone: an armed split applies to training
// passes only; an evaluation Forward of one workspace computes its rows
// alone instead of waiting for parts that never come.
func TestColumnSplitLeavesEvaluationAlone(t *testing.T) {
	m, pack := splittable(t)
	x := make([]float32, 32*784)
	pack.SplitColumns(m, 0, x, make([]float32, 32*256), 32, []int{0, 16, 32})
	w := NewWorkspace(m, 16)
	w.Pack = pack
	pack.Invalidate()
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Forward(x[:16*784], 16, false) // split, it would wait for part 1 forever
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("an evaluation Forward waited in the armed split")
	}
	pack.NoSplit()
}

// TestColumnSplitAbort: Abort releases a part waiting in the split for a
// part that never comes (a trainer's coordinator that panicked), as it
// releases a wait for claimed panels.
func TestColumnSplitAbort(t *testing.T) {
	m, pack := splittable(t)
	x := make([]float32, 32*784)
	pack.SplitColumns(m, 0, x, make([]float32, 32*256), 32, []int{0, 16, 32})
	pack.Invalidate()
	w := NewWorkspace(m, 16)
	w.Pack, w.Part = pack, 1
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Forward(x[16*784:], 16, true) // waits for part 0's rows
	}()
	time.Sleep(10 * time.Millisecond)
	pack.Abort()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Abort did not release a part waiting for another")
	}
	pack.NoSplit()
	pack.Invalidate()
}

// TestSplitColumnsChecksItsArguments: a split that could not run panics
// when it is armed, and a part's Forward on rows other than its own
// panics instead of computing another part's output.
func TestSplitColumnsChecksItsArguments(t *testing.T) {
	m, pack := splittable(t)
	if pack.CanSplitColumns(m, 1) {
		t.Error("the second dense layer, which does not read the input, can split")
	}
	x, z := make([]float32, 32*784), make([]float32, 32*256)
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"layer 1", func() { pack.SplitColumns(m, 1, x, z, 32, []int{0, 16, 32}) }, "cannot split"},
		{"short z", func() { pack.SplitColumns(m, 0, x, z[:100], 32, []int{0, 16, 32}) }, "outputs"},
		{"parts past n", func() { pack.SplitColumns(m, 0, x, z, 32, []int{0, 16, 33}) }, "parts"},
		{"empty part", func() { pack.SplitColumns(m, 0, x, z, 32, []int{0, 16, 16, 32}) }, "no rows"},
		{"other rows", func() {
			pack.SplitColumns(m, 0, x, z, 32, []int{0, 32})
			pack.Invalidate()
			w := NewWorkspace(m, 32)
			w.Pack = pack
			w.Forward(make([]float32, 32*784), 32, true)
		}, "rows other than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, c.want) {
					t.Fatalf("panic %v, want one saying %q", r, c.want)
				}
			}()
			c.f()
		})
	}
	pack.NoSplit()
}

// TestSplitWidth: SplitWidth is the widest of the ranges the parts of a
// split compute, and those ranges are whole panels that cover the layer's
// columns once, in order, as evenly as the panels go.
func TestSplitWidth(t *testing.T) {
	m, err := New[float32](MustParseSpec("784-256:relu-100:relu-10:softmax"), 7)
	if err != nil {
		t.Fatal(err)
	}
	pack := NewSharedPack(m)
	if pack.slots[0] == nil || pack.slots[1] == nil {
		t.Skip("nothing packed on this CPU or build")
	}
	for _, c := range []struct{ l, out int }{{0, 256}, {1, 100}} {
		pn := pack.slots[c.l].pb.Panel()
		panels := (c.out + pn - 1) / pn
		for _, parts := range []int{1, 2, 3, 5, 16, 300} {
			cs := &columnSplit[float32]{slot: pack.slots[c.l], rows: make([]int, parts+1)}
			widest, at := 0, 0
			for k := range parts {
				j0, j1 := cs.columns(k, c.out)
				if j0 != at || j1 < j0 || j0%pn != 0 {
					t.Fatalf("layer %d, %d parts: part %d has columns [%d, %d) after %d", c.l, parts, k, j0, j1, at)
				}
				if w := (j1 - j0 + pn - 1) / pn; w < panels/parts || w > (panels+parts-1)/parts {
					t.Errorf("layer %d, %d parts: part %d has %d of %d panels", c.l, parts, k, w, panels)
				}
				widest, at = max(widest, j1-j0), j1
			}
			if at != c.out {
				t.Errorf("layer %d, %d parts: the columns end at %d of %d", c.l, parts, at, c.out)
			}
			if got := pack.SplitWidth(m, c.l, parts); got != widest {
				t.Errorf("layer %d, %d parts: SplitWidth %d, widest part %d", c.l, parts, got, widest)
			}
		}
	}
}
