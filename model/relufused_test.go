package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestReLUFusedPassesMatchSeparatePasses: batch norm's normalisation with
// its ReLU, and a residual sum with its ReLU, each in one pass (reluFused),
// give the bits of the separate passes they replace — affinePlane then
// reluForward; a copy, addTo and reluForward — on every length up to a
// few vectors, with and without AVX2, −0 and values that round to ±0
// included.
func TestReLUFusedPassesMatchSeparatePasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, asm := range []bool{false, true} {
		if asm && !haveAVX2 {
			continue
		}
		func() {
			defer func(h bool) { haveAVX2 = h }(haveAVX2)
			haveAVX2 = asm
			for n := 0; n <= 35; n++ {
				x, y := make([]float32, n), make([]float32, n)
				for i := range x {
					x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
					switch i % 7 {
					case 3:
						x[i] = float32(math.Copysign(0, -1))
					case 5:
						y[i] = -x[i] // a sum of exactly 0
					}
				}
				ta, tb := float32(1.7), float32(-0.3)
				want, got := make([]float32, n), make([]float32, n)
				affinePlane(x, want, ta, tb)
				reluForward(want, want)
				affineReLUPlane(x, got, ta, tb)
				same(t, "affine", asm, want, got)
				copy(want, x)
				addTo(want, y)
				reluForward(want, want)
				addReLU(got, x, y)
				same(t, "sum", asm, want, got)
			}
		}()
	}
}

func same(t *testing.T, what string, asm bool, want, got []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s (asm %v, n %d): [%d] = %v, want %v", what, asm, len(want), i, got[i], want[i])
		}
	}
}

// TestWorkspaceKeepsNoOutputOfFusedReLULayers: a layer that applies its
// ReLU in the pass computing its output never stores z, so the workspace
// gives it one activation-sized buffer, not two; every other layer with
// an activation keeps its z (the last, whose z the loss reads, included).
func TestWorkspaceKeepsNoOutputOfFusedReLULayers(t *testing.T) {
	spec := MustParseSpec("1x8x8-conv(4,3,pad=1)-bn:relu-res(conv(4,3,pad=1)-bn):relu-flatten-5:relu-3:softmax")
	m, err := New[float32](spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorkspace(m, 3)
	fused := 0
	for l := range m.stack {
		act := m.stack[l].Info().Spec.Act.Kind
		if act == Identity {
			continue
		}
		shared := &w.z[l][0] == &w.a[l][0]
		if w.fusesReLU(l) {
			fused++
			if !shared {
				t.Errorf("layer %d (%s) fuses its ReLU but has a z buffer of its own", l, m.stack[l].Info().Spec.Kind)
			}
		} else if shared {
			t.Errorf("layer %d (%s) applies %v after its pass but its z is its activation", l, m.stack[l].Info().Spec.Kind, act)
		}
	}
	if fused != 2 {
		t.Errorf("%d layers fuse their ReLU, want 2 (the batch norm and the residual sum)", fused)
	}
}
