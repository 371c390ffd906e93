package optim

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/model/num"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/apply.golden from this build")

const applyGolden = "testdata/apply.golden"

// applyCases is every update rule, with and without the coupled weight
// decay that Apply adds into a scratch gradient.
var applyCases = []struct {
	name string
	cfg  Config
}{
	{"sgd", Config{Method: SGD, LR: 0.05}},
	{"sgd+wd", Config{Method: SGD, LR: 0.05, WeightDecay: 0.01}},
	{"momentum", Config{Method: Momentum, LR: 0.05, Momentum: 0.9}},
	{"momentum+wd", Config{Method: Momentum, LR: 0.05, Momentum: 0.8, WeightDecay: 0.01}},
	{"nesterov", Config{Method: Nesterov, LR: 0.05, Momentum: 0.9}},
	{"nesterov+wd", Config{Method: Nesterov, LR: 0.05, Momentum: 0.8, WeightDecay: 0.01}},
	{"rmsprop", Config{Method: RMSprop, LR: 0.01, Alpha: 0.99, Eps: 1e-8}},
	{"rmsprop+momentum", Config{Method: RMSprop, LR: 0.01, Alpha: 0.9, Eps: 1e-8, Momentum: 0.9}},
	{"adam", Config{Method: Adam, LR: 0.003, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}},
	{"adam+wd", Config{Method: Adam, LR: 0.003, Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.01}},
	{"adamw", Config{Method: AdamW, LR: 0.003, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}},
}

// exactValues returns n values of magnitudes from 2⁻¹² to 1 that float32
// holds exactly (22-bit integers times powers of two), drawn from seed: the
// inputs are the same bits on every machine and for both element types.
func exactValues(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float64, n)
	for i := range x {
		u := rng.Uint64()
		x[i] = math.Ldexp(float64(int64(u>>42)-1<<21), -21-int(u%13))
	}
	return x
}

func convert[T num.Float](x []float64) []T {
	out := make([]T, len(x))
	for i, v := range x {
		out[i] = T(v)
	}
	return out
}

// runApply makes 5 steps of cfg's rule over 1003 parameters, with a new
// gradient and learning rate at each, applying each step in two ranges so
// that both have a remainder after the 8-lane blocks. It returns the
// parameters followed by the state buffers (in name order).
func runApply[T num.Float](t *testing.T, cfg Config) [][]T {
	const n, split = 1003, 501
	o, err := New[T](cfg, n)
	if err != nil {
		t.Fatal(err)
	}
	p := convert[T](exactValues(n, 1))
	for step := range 5 {
		g := convert[T](exactValues(n, uint64(step+2)))
		o.BeginLR(cfg.LR * (1 - 0.1*float64(step)))
		o.Apply(p, g, split, n)
		o.Apply(p, g, 0, split)
	}
	bufs := o.State().Buffers
	out := [][]T{p}
	for _, name := range slices.Sorted(maps.Keys(bufs)) {
		out = append(out, bufs[name])
	}
	return out
}

// digest is a SHA-256 of the little-endian bits of every buffer.
func digest[T num.Float](bufs [][]T) string {
	h := sha256.New()
	for _, b := range bufs {
		for _, v := range b {
			if num.Is32[T]() {
				h.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(v))))
			} else {
				h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(float64(v))))
			}
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// applyDigests runs every case in both element types with haveAVX set to
// vec and returns "case type" → digest.
func applyDigests(t *testing.T, vec bool) map[string]string {
	defer func(h bool) { haveAVX = h }(haveAVX)
	haveAVX = vec
	d := map[string]string{}
	for _, c := range applyCases {
		d[c.name+" float32"] = digest(runApply[float32](t, c.cfg))
		d[c.name+" float64"] = digest(runApply[float64](t, c.cfg))
	}
	return d
}

// TestApplySameBitsWithAndWithoutKernels runs Apply, not just a kernel,
// for every rule with the vector kernels on and forced off, and requires
// identical parameters and state: a build without them (-tags purego, or a
// machine without AVX) must train exactly as one with them.
func TestApplySameBitsWithAndWithoutKernels(t *testing.T) {
	if !haveAVX {
		t.Skip("no vector kernels in this build or on this machine; TestApplyMatchesGolden covers the Go loops")
	}
	defer func(h bool) { haveAVX = h }(haveAVX)
	for _, c := range applyCases {
		t.Run(c.name, func(t *testing.T) {
			haveAVX = true
			vec32, vec64 := runApply[float32](t, c.cfg), runApply[float64](t, c.cfg)
			haveAVX = false
			go32, go64 := runApply[float32](t, c.cfg), runApply[float64](t, c.cfg)
			compareBits(t, "float32", vec32, go32, func(v float32) uint64 { return uint64(math.Float32bits(v)) })
			compareBits(t, "float64", vec64, go64, math.Float64bits)
		})
	}
}

func compareBits[T num.Float](t *testing.T, typ string, vec, gol [][]T, bits func(T) uint64) {
	t.Helper()
	for b := range vec {
		for i := range vec[b] {
			if bits(vec[b][i]) != bits(gol[b][i]) {
				what := "params"
				if b > 0 {
					what = fmt.Sprintf("state buffer %d", b)
				}
				t.Fatalf("%s %s[%d] = %v with the vector kernels, %v without", typ, what, i, vec[b][i], gol[b][i])
			}
		}
	}
}

// TestApplyMatchesGolden compares the bits Apply produces, with the vector
// kernels as this build has them and with them forced off, against digests
// checked in from the default amd64 build: `go test ./optim` and
// `go test -tags purego ./optim` must both match the same file. After a
// deliberate change to an update rule, regenerate it with
// `go test ./optim -run TestApplyMatchesGolden -update`.
//
// It is skipped where the compiler fuses a*b + c into one multiply-add,
// which the Go spec allows (arm64, amd64 with GOAMD64=v3): optim's own
// loops force every rounding, but the L2 term in Apply, gonum's Go axpy
// loops and math.Pow do not, and a fused multiply-add rounds once.
func TestApplyMatchesGolden(t *testing.T) {
	if fusedMultiplyAdd() {
		t.Skip("this build fuses multiply-adds; the golden digests are from one that does not")
	}
	got := applyDigests(t, haveAVX)
	if *updateGolden {
		var b strings.Builder
		b.WriteString("# SHA-256 of the parameters and state after optim's apply_test.go runApply, per case and element type.\n")
		b.WriteString("# Regenerate with: go test ./optim -run TestApplyMatchesGolden -update\n")
		for _, k := range slices.Sorted(maps.Keys(got)) {
			fmt.Fprintf(&b, "%s %s\n", k, got[k])
		}
		if err := os.WriteFile(applyGolden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readGolden(t)
	if len(want) != len(got) {
		t.Errorf("%s has %d digests, the test computes %d: regenerate it", applyGolden, len(want), len(got))
	}
	builds := []map[string]string{got}
	if haveAVX {
		builds = append(builds, applyDigests(t, false))
	}
	for i, d := range builds {
		how := "with this build's kernels"
		if i == 1 {
			how = "with the vector kernels off"
		}
		for _, c := range applyCases {
			for _, typ := range []string{"float32", "float64"} {
				k := c.name + " " + typ
				if d[k] != want[k] {
					t.Errorf("%s %s: digest %s, %s has %s", k, how, d[k], applyGolden, want[k])
				}
			}
		}
	}
}

// fma* are variables so that the compiler cannot fold the probe below.
var fmaX, fmaZ = 1 + 0x1p-30, -1.0

// fusedMultiplyAdd reports whether this build compiles x*x + z as one
// fused multiply-add: (1+2⁻³⁰)² − 1 keeps its 2⁻⁶⁰ term only if the
// product is not rounded first.
func fusedMultiplyAdd() bool { return fmaX*fmaX+fmaZ != float64(fmaX*fmaX)+fmaZ }

func readGolden(t *testing.T) map[string]string {
	f, err := os.Open(applyGolden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("%s: malformed line %q", applyGolden, line)
		}
		want[line[:i]] = line[i+1:]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return want
}
