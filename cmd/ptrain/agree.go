package main

import (
	"crypto/sha256"
	le "encoding/binary" // "binary" is the tests' binary path
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/parallel"
)

// Under MPI every rank loads the dataset and parses the flags itself, and
// the collectives assume they agree: ranks with different row counts wait
// in different collectives for ever, different widths fail inside MPI, and
// different content trains silently on a mix. So before training, every
// rank gathers every rank's description of its run — sizes, a content
// fingerprint of each split, one fingerprint per setting — and all of them
// fail together, naming what differs, if any two disagree.

// errDisagree is a failure every rank found together: each reports it and
// ends normally, without aborting the job.
type errDisagree struct{ error }

func (e errDisagree) Unwrap() error { return e.error }

// fact is one item every rank must agree on. A fingerprint is two 32-bit
// halves so that a float64 holds each exactly.
type fact struct {
	name string
	v    [2]float64
	hash bool
}

// agreeOnRun checks that every rank of g loaded the same data and config.
func agreeOnRun(g parallel.Group, c *Config, sp *splits) error {
	facts := runFacts(c, sp)
	// First the shape of the description itself, so that the second
	// exchange has the same length everywhere even between ptrain builds.
	var names strings.Builder
	for _, f := range facts {
		names.WriteString(f.name + "\x00")
	}
	head := fact{name: "ptrain build", v: fingerprint(version + "\x00" + names.String()), hash: true}
	if err := agree(g, []fact{head, {name: "items", v: [2]float64{float64(len(facts))}}}); err != nil {
		return err
	}
	return agree(g, facts)
}

// agree gathers every rank's facts (an all-reduce of a matrix in which
// each rank fills its own row) and fails on every rank if any row differs
// from rank 0's.
func agree(g parallel.Group, facts []fact) error {
	n, size, rank := len(facts), g.Size(), g.Rank()
	all := make([]float64, size*n*2)
	for i, f := range facts {
		copy(all[(rank*n+i)*2:], f.v[:])
	}
	if err := g.AllReduce64(all); err != nil {
		return err
	}
	at := func(r, i int) [2]float64 { return [2]float64(all[(r*n+i)*2:]) }
	var diffs []string
	for i, f := range facts {
		var odd []string
		for r := 1; r < size; r++ {
			if v := at(r, i); v != at(0, i) {
				if f.hash {
					odd = append(odd, fmt.Sprintf("rank %d", r))
				} else {
					odd = append(odd, fmt.Sprintf("rank %d has %g", r, v[0]))
				}
			}
		}
		if len(odd) == 0 {
			continue
		}
		if f.hash {
			diffs = append(diffs, fmt.Sprintf("%s differs between rank 0 and %s", f.name, strings.Join(odd, ", ")))
		} else {
			diffs = append(diffs, fmt.Sprintf("%s: rank 0 has %g, %s", f.name, at(0, i)[0], strings.Join(odd, ", ")))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	return errDisagree{fmt.Errorf("rank %d: the MPI ranks do not run the same job: %s (every rank must read the same data with the same flags)", rank, strings.Join(diffs, "; "))}
}

// runFacts describes this rank's run: the splits' sizes and content, and
// every setting that changes the computation (not where output goes, how
// many workers this process has, or where the data or -init file is: the
// content and rank 0's weights are what count).
func runFacts(c *Config, sp *splits) []fact {
	count := func(name string, v int) fact { return fact{name: name, v: [2]float64{float64(v)}} }
	rows := func(d *data.Dataset) int {
		if d == nil {
			return 0
		}
		return d.N
	}
	facts := []fact{
		count("training rows", rows(sp.train)), count("validation rows", rows(sp.val)), count("test rows", rows(sp.test)),
		count("features", sp.train.Features), count("classes", len(sp.train.Classes)), count("regression targets", sp.train.Outputs),
		{name: "training data", v: datasetPrint(sp.train), hash: true},
		{name: "validation data", v: datasetPrint(sp.val), hash: true},
		{name: "test data", v: datasetPrint(sp.test), hash: true},
	}
	cc := *c
	cc.Data, cc.Init, cc.Workers, cc.Out, cc.Metrics, cc.Plot, cc.JSON, cc.Quiet = "", "", 0, "", "", "", false, false
	b, _ := json.Marshal(cc)
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(b, &fields)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		facts = append(facts, fact{name: "-" + k, v: fingerprint(string(fields[k])), hash: true})
	}
	return facts
}

func fingerprint(s string) [2]float64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return halves(h.Sum64())
}

func halves(x uint64) [2]float64 { return [2]float64{float64(x >> 32), float64(x & math.MaxUint32)} }

// datasetPrint fingerprints everything in d a model sees: its rows as
// data.Fingerprint has them (features after a table's preprocessing,
// labels, class names, targets; the dataset's one content hash, which the
// checkpoint's split record keeps too), and what that hash leaves out
// because the ranks must agree on it but a split record must not depend on
// it: the feature transform and the targets' scaling, fitted on the data.
// Its first 64 bits are what the all-reduce compares.
func datasetPrint(d *data.Dataset) [2]float64 {
	if d == nil {
		return [2]float64{}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", d.Fingerprint())
	for _, s := range [][]float64{d.Scale, d.Shift, d.TargetScale, d.TargetShift} {
		data.WriteFloats(h, s)
		h.Write([]byte{0})
	}
	return halves(le.LittleEndian.Uint64(h.Sum(nil)))
}
