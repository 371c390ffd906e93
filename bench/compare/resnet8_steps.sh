#!/usr/bin/env bash
# Wall-clock samples/s of ResNet-8 training steps, PyTorch and ptrain side by
# side, interleaved: each round runs, at batch 64 and 128, torch_steps.py with
# 1 and 2 threads (OMP_WAIT_POLICY=PASSIVE, its best 2-core setting) and
# then each given bench.test binary's TrainStepCNN/resnet8 (1 and 2 workers,
# 10 steps). Compare the best of the rounds: on a shared machine a round
# can lose half its speed.
#
# Usage: bench/compare/resnet8_steps.sh BENCH_TEST...   (ROUNDS=3 by default)
#   go test -c -o new.test ./bench    # and old.test from another commit
#   bench/compare/resnet8_steps.sh ./old.test ./new.test
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BENCH_TEST..." >&2; exit 2; }
for b in "$@"; do
	[ -x "$b" ] || { echo "$0: $b is not an executable bench.test" >&2; exit 2; }
done
dir=$(cd "$(dirname "$0")" && pwd)
export OMP_WAIT_POLICY=PASSIVE
for round in $(seq "${ROUNDS:-3}"); do
	for batch in 64 128; do
		for threads in 1 2; do
			echo "round $round $(/usr/bin/python3 "$dir/torch_steps.py" "$threads" "$batch" resnet8)"
		done
		for b in "$@"; do
			"$b" -test.run XXX -test.bench "TrainStepCNN/resnet8/batch=$batch/" -test.benchtime 10x |
				awk -v r="$round" -v b="$b" '/^Benchmark/ { for (i = 1; i <= NF; i++) if ($i == "samples/s") print "round", r, b, $1, $(i-1), "samples/s" }'
		done
	done
done
