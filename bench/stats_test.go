package bench

import "flag"

// noLayerStats turns the trainer's per-layer statistics off in every
// benchmark here, to measure their cost against the default (on):
//
//	go test -c -o bench.test ./bench
//	./bench.test -test.run XXX -test.bench 'TrainStep/batch=128' -test.count 1 -nostats
//
// run alternately with and without -nostats, then compare with benchstat.
var noLayerStats = flag.Bool("nostats", false, "benchmark with parallel.Config.NoLayerStats")
