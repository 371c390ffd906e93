package model

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// TestSharedPackForwardMatchesUnshared runs workspaces that share one
// packing of the weights concurrently on different rows, as the trainer's
// workers do, and checks every output against a workspace packing for
// itself, bit for bit — also after the weights change and the pack is
// invalidated, which a pack that kept the old weights would fail.
func TestSharedPackForwardMatchesUnshared(t *testing.T) {
	for _, spec := range []string{
		"784-256:relu-128:relu-10:softmax",
		"1x12x12-conv(4,3):relu-maxpool(2)-flatten-40:relu-10:softmax",
	} {
		m, err := New[float32](MustParseSpec(spec), 7)
		if err != nil {
			t.Fatal(err)
		}
		in := m.Spec.Inputs
		rng := rand.New(rand.NewPCG(24, 3))
		rows := []int{16, 9, 33, 16} // a shard of 7 or more rows reads the packing
		pack := NewSharedPack(m)
		shared := make([]*Workspace[float32], len(rows))
		xs := make([][]float32, len(rows))
		for i, n := range rows {
			shared[i] = NewWorkspace(m, n)
			shared[i].Pack = pack
			xs[i] = make([]float32, n*in)
			for j := range xs[i] {
				xs[i][j] = float32(rng.NormFloat64())
			}
		}
		for round := range 3 {
			pack.Invalidate()
			outs := make([][]float32, len(rows))
			var wg sync.WaitGroup
			for i := range rows {
				wg.Go(func() {
					outs[i] = append([]float32(nil), shared[i].Forward(xs[i], rows[i], true)...)
				})
			}
			wg.Wait()
			for i, n := range rows {
				want := NewWorkspace(m, n).Forward(xs[i], n, true)
				for j := range want {
					if outs[i][j] != want[j] {
						t.Fatalf("%s round %d, workspace %d, output %d: shared %v, unshared %v", spec, round, i, j, outs[i][j], want[j])
					}
				}
			}
			for j := range m.Params { // the next round's weights
				m.Params[j] += float32(rng.NormFloat64()) * 0.01
			}
		}
	}
}

// TestSharedPackAbortReleasesWaiters: a Forward waiting for a panel that
// another goroutine claimed and never packs (its goroutine died) returns
// once the pack is aborted.
func TestSharedPackAbortReleasesWaiters(t *testing.T) {
	m, err := New[float32](MustParseSpec("784-256:relu-10:softmax"), 7)
	if err != nil {
		t.Fatal(err)
	}
	pack := NewSharedPack(m)
	if pack.slots[0] == nil {
		t.Skip("no packing on this build or CPU")
	}
	pack.Invalidate()
	pack.slots[0].next.Add(1) // unit 0 claimed by a goroutine that never packs it
	ws := NewWorkspace(m, 16)
	ws.Pack = pack
	done := make(chan struct{})
	go func() {
		ws.Forward(make([]float32, 16*784), 16, false)
		close(done)
	}()
	pack.Abort()
	<-done
}
