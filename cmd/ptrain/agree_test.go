package main

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// hub joins in-process fake ranks: AllReduce64 sums every rank's buffer.
type hub struct {
	mu    sync.Mutex
	cond  *sync.Cond
	size  int
	sum   []float64
	in    int
	round int
}

type fakeRank struct {
	h    *hub
	rank int
}

func (r fakeRank) Rank() int { return r.rank }
func (r fakeRank) Size() int { return r.h.size }
func (r fakeRank) AllReduce64(buf []float64) error {
	h := r.h
	h.mu.Lock()
	defer h.mu.Unlock()
	round := h.round
	if h.in == 0 {
		h.sum = make([]float64, len(buf))
	}
	sum := h.sum // this round's: the next one gets a new slice
	for i, v := range buf {
		sum[i] += v
	}
	h.in++
	if h.in == h.size {
		h.in, h.round = 0, h.round+1
		h.cond.Broadcast()
	}
	for h.round == round {
		h.cond.Wait()
	}
	copy(buf, sum)
	return nil
}
func (fakeRank) AllReduce32([]float32) error      { panic("unused") }
func (fakeRank) Broadcast32([]float32, int) error { panic("unused") }
func (fakeRank) Broadcast64([]float64, int) error { panic("unused") }

func TestRanksAgreeOnDataAndConfig(t *testing.T) {
	load := func(c Config) *splits {
		s, err := loadSplits(&c, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := defaultConfig()
	base.Data = "synthetic:blobs:300"
	with := func(f func(*Config)) Config { c := base; f(&c); return c }
	shuffled := load(base)
	shuffled.train.F64 = append([]float64(nil), shuffled.train.F64...)
	shuffled.train.F64[0], shuffled.train.F64[1] = shuffled.train.F64[1], shuffled.train.F64[0]
	// The same rows (data.Fingerprint, which a split record keeps, leaves
	// the transform out) with another feature transform.
	rescaled := load(base)
	rescaled.train.Scale = []float64{2, 2}
	for _, tc := range []struct {
		name   string
		c1     Config
		s1     *splits
		wantOK bool
		want   string
	}{
		{name: "same", c1: base, wantOK: true},
		{name: "outputs and workers may differ", c1: with(func(c *Config) { c.Out, c.Workers, c.Quiet, c.Metrics = "x", 7, true, "m.csv" }), wantOK: true},
		{name: "rows", c1: with(func(c *Config) { c.Data = "synthetic:blobs:400" }), want: "training rows: rank 0 has 216, rank 1 has 288"},
		{name: "features", c1: with(func(c *Config) { c.Data = "digits" }), want: "features: rank 0 has 2, rank 1 has 64"},
		{name: "content", c1: base, s1: shuffled, want: "training data differs between rank 0 and rank 1"},
		{name: "transform", c1: base, s1: rescaled, want: "training data differs between rank 0 and rank 1"},
		{name: "lr", c1: with(func(c *Config) { c.LR = optFloat{0.5, true} }), want: "-lr differs"},
		{name: "epochs", c1: with(func(c *Config) { c.Epochs = 3 }), want: "-epochs differs"},
	} {
		s0, s1 := load(base), tc.s1
		if s1 == nil {
			s1 = load(tc.c1)
		}
		h := &hub{size: 2}
		h.cond = sync.NewCond(&h.mu)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for r, run := range []struct {
			c Config
			s *splits
		}{{base, s0}, {tc.c1, s1}} {
			wg.Go(func() { errs[r] = agreeOnRun(fakeRank{h, r}, &run.c, run.s) })
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the ranks hang", tc.name)
		}
		for r, err := range errs {
			if tc.wantOK != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("%s: rank %d: %v; want %q", tc.name, r, err, tc.want)
			}
		}
	}
}
