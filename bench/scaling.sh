#!/usr/bin/env bash
# The scaling table and the scaling model of bench/README.md in one run.
#
#  1. BenchmarkTrainScaling (MLP and small CNN, batch 32/64/128/512, 1 and 2
#     workers, wall clock, phase shares) for the pure-Go and the OpenBLAS
#     build — and, with BASE_REV, the same tests of that revision —
#     interleaved ROUNDS times; the table keeps each row's best run.
#  2. The model's terms in CPU time of one thread (BenchmarkShardCPU,
#     BenchmarkStepCPU, BenchmarkAddCPU), best of ROUNDS, fitted as
#        T(W, B) = a + p/W + b·⌈B/W⌉ + t/W + (W−1)/W·r + h·[W>1]
#     (see bench/README.md), and its prediction for W = 1…16 at batch 128
#     and 512, before issue #24 (BenchmarkShardCPU's "plain" passes) and
#     after. h, the hand-off of a step's three phases, is what the wall
#     clock of 2 workers adds to the model, from step 1's best runs: only
#     meaningful on a quiet machine.
#
# With SCALING_KEEP=DIR the raw benchmark output is kept in DIR; with
# SCALING_FROM=DIR nothing runs, and the tables come from DIR's output.
# SCALING_H=µs sets h instead of fitting it (on a loaded machine the wall
# clock says nothing about it).
#
# Needs: libopenblas-dev. Takes several minutes per round.
# Usage: bench/scaling.sh [ROUNDS] [BASE_REV]
set -euo pipefail

main() { # parsed whole before it runs: editing the file meanwhile is safe
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
BASE=${2:-}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
if [ -n "${SCALING_FROM:-}" ]; then
	cp "$SCALING_FROM/wall.txt" "$SCALING_FROM/cpu.txt" "$BIN/"
	fit "$BIN"
	return
fi
go test -c -o "$BIN/go.test" ./bench
CGO_LDFLAGS=-lopenblas go test -tags openblas -c -o "$BIN/ob.test" ./bench
builds=(go ob)
if [ -n "$BASE" ]; then
	mkdir "$BIN/base"
	git archive "$BASE" | tar -x -C "$BIN/base"
	cp bench/trainscaling_test.go "$BIN/base/bench/" # needs only benchTrainSpec
	(cd "$BIN/base" && go test -c -o "$BIN/go-base.test" ./bench &&
		CGO_LDFLAGS=-lopenblas go test -tags openblas -c -o "$BIN/ob-base.test" ./bench)
	builds=(go-base go ob-base ob)
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   ($(nproc) CPUs, $(date -u +%FT%TZ))"
export OPENBLAS_NUM_THREADS=1
cd bench
for i in $(seq "$ROUNDS"); do
	for b in "${builds[@]}"; do
		"$BIN/$b.test" -test.run XXX -test.bench 'TrainScaling' -test.benchtime 1s |
			sed -n "s/^Benchmark/$b Benchmark/p" >>"$BIN/wall.txt"
		"$BIN/$b.test" -test.run XXX -test.bench 'ShardCPU|StepCPU|AddCPU' -test.benchtime 0.2s 2>/dev/null |
			sed -n "s/^Benchmark/$b Benchmark/p" >>"$BIN/cpu.txt" || true
	done
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo
if [ -n "${SCALING_KEEP:-}" ]; then
	mkdir -p "$SCALING_KEEP"
	cp "$BIN/wall.txt" "$BIN/cpu.txt" "$SCALING_KEEP/"
fi
fit "$BIN"
}

# fit prints the tables from DIR/wall.txt and DIR/cpu.txt.
# metric NAME: the value before the unit NAME on a benchmark line.
fit() {
awk -v hset="${SCALING_H:-}" '
function metric(u,   i) { for (i = 3; i <= NF; i++) if ($(i) == u) return $(i-1); return "" }
FNR == 1 { file++ }
file == 1 {
	split($2, f, "/"); net = f[2]; sub(/batch=/, "", f[3]); w = f[4]; sub(/workers=/, "", w); sub(/-[0-9]+$/, "", w)
	k = $1 SUBSEP net SUBSEP f[3] SUBSEP w
	s = metric("samples/s")
	if (!(k in best) || s > best[k]) {
		best[k] = s; sh[k] = sprintf("%.0f%% | %.0f%% | %.1f%% | %.1f%%", metric("%compute"), metric("%wait"), metric("%allreduce"), metric("%optimizer"))
		allocs[k] = metric("allocs/op")
	}
	rows[$1 SUBSEP net SUBSEP f[3]] = 1
}
file == 2 {
	n = split($2, f, "/"); name = f[1]; sub(/^BenchmarkShardCPU|^BenchmarkStepCPU|^BenchmarkAddCPU/, "", name)
	last = f[n]; sub(/-[0-9]+$/, "", last); f[n] = last
	if ($2 ~ /^BenchmarkShardCPU/) { sub(/rows=/, "", f[3]); sub(/workers=/, "", f[4]); k = "shard" SUBSEP $1 SUBSEP f[2] SUBSEP f[3] SUBSEP f[4]; v = metric("cpu-ns/shard") }
	else if ($2 ~ /^BenchmarkStepCPU/) { sub(/batch=/, "", f[3]); k = "step" SUBSEP $1 SUBSEP f[2] SUBSEP f[3]; v = metric("cpu-ns/op") }
	else { k = "add" SUBSEP $1 SUBSEP f[2]; v = metric("cpu-ns/op") }
	if (v != "" && (!(k in cpu) || v + 0 < cpu[k] + 0)) cpu[k] = v
}
END {
	print "## Wall clock, best run (samples/s; shares of the step: compute | wait | all-reduce | optimizer)"
	print ""
	print "| build | net | batch | W=1 | W=2 | W=2 ÷ W=1 | W=2 shares | allocs/op |"
	print "|---|---|---|---|---|---|---|---|"
	nk = 0
	for (r in rows) keys[++nk] = r
	for (i = 1; i <= nk; i++) for (j = i + 1; j <= nk; j++) {
		split(keys[i], ka, SUBSEP); split(keys[j], kb, SUBSEP)
		if (ka[1] > kb[1] || (ka[1] == kb[1] && (ka[2] > kb[2] || (ka[2] == kb[2] && ka[3] + 0 > kb[3] + 0)))) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
	}
	for (i = 1; i <= nk; i++) {
		split(keys[i], ka, SUBSEP); k1 = keys[i] SUBSEP 1; k2 = keys[i] SUBSEP 2
		printf "| %s | %s | %s | %.0f | %.0f | %.2f | %s | %s |\n", ka[1], ka[2], ka[3], best[k1], best[k2], best[k2] / best[k1], sh[k2], allocs[k2]
	}
	print ""
	print "## The model, from CPU time of one thread (µs)"
	print ""
	print "| build | net | a | p | b (per row) | before: a+p | before: b | t | r | h | fit error |"
	print "|---|---|---|---|---|---|---|---|---|---|---|"
	nb = split("go ob", bl, " ")
	split("mlp smallcnn", nl, " ")
	for (bi = 1; bi <= nb; bi++) for (ni = 1; ni <= 2; ni++) {
		bd = bl[bi]; net = nl[ni]
		# b from one worker, rows ≥ 8: least squares in relative error
		# (weights 1/y²), so that the large shards do not drown the fixed part
		sw = sx = sy = sxx = sxy = 0
		for (k in cpu) { split(k, q, SUBSEP); if (q[1] == "shard" && q[2] == bd && q[3] == net && q[5] == 1 && q[4] >= 8) { x = q[4]; y = cpu[k] / 1000; wt = 1 / (y * y); sw += wt; sx += wt * x; sy += wt * y; sxx += wt * x * x; sxy += wt * x * y } }
		if (sw == 0) continue
		b = (sw * sxy - sx * sy) / (sw * sxx - sx * sx)
		# before #24 ("plain" passes): c0 + b0·n, the same way
		sw = sx = sy = sxx = sxy = 0
		for (k in cpu) { split(k, q, SUBSEP); if (q[1] == "shard" && q[2] == bd && q[3] == net && q[5] == "plain" && q[4] >= 8) { x = q[4]; y = cpu[k] / 1000; wt = 1 / (y * y); sw += wt; sx += wt * x; sy += wt * y; sxx += wt * x * x; sxy += wt * x * y } }
		b0 = c0 = 0
		if (sw > 0) { b0 = (sw * sxy - sx * sy) / (sw * sxx - sx * sx); c0 = (sy - b0 * sx) / sw }
		if (c0 < 0) c0 = 0
		# the fixed part at W = 1, 2 and 16: mean of y − b·n over rows 8–32,
		# then a + p/W through the three (least squares in 1/W)
		sx = sy = sxx = sxy = c3 = 0
		split("1 2 16", wl, " ")
		for (wi = 1; wi <= 3; wi++) {
			s = c = 0
			for (k in cpu) { split(k, q, SUBSEP); if (q[1] == "shard" && q[2] == bd && q[3] == net && q[5] == wl[wi] && q[4] >= 8 && q[4] <= 32) { s += cpu[k] / 1000 - b * q[4]; c++ } }
			if (c == 0) continue
			x = 1 / wl[wi]; y = s / c; sx += x; sy += y; sxx += x * x; sxy += x * y; c3++
		}
		p = c3 > 1 ? (c3 * sxy - sx * sy) / (c3 * sxx - sx * sx) : 0; a = c3 ? (sy - p * sx) / c3 : 0
		# a fixed part below the noise of b·n comes out negative: it is 0
		if (p < 0) { p = 0; a = sy / c3 }
		if (a < 0) a = 0
		err = 0
		for (k in cpu) { split(k, q, SUBSEP); if (q[1] == "shard" && q[2] == bd && q[3] == net && q[4] >= 8 && q[5] != "plain") { e = (a + p / q[5] + b * q[4]) / (cpu[k] / 1000) - 1; if (e < 0) e = -e; if (e > err) err = e } }
		# (at batch 32, where the pass it is told from is smallest)
		tl = (cpu["step" SUBSEP bd SUBSEP net SUBSEP 32] - cpu["shard" SUBSEP bd SUBSEP net SUBSEP 32 SUBSEP 1]) / 1000
		if (tl < 0) tl = 0
		r = cpu["add" SUBSEP bd SUBSEP net] / 1000
		# h from the wall clock at batch 128: the step of 2 workers beyond the model,
		# the model scaled by wall ÷ model of the step of 1 worker.
		t1 = t2 = 1
		if ((bd SUBSEP net SUBSEP 128 SUBSEP 1) in best && (bd SUBSEP net SUBSEP 128 SUBSEP 2) in best) { t1 = 128e6 / best[bd SUBSEP net SUBSEP 128 SUBSEP 1]; t2 = 128e6 / best[bd SUBSEP net SUBSEP 128 SUBSEP 2] }
		m1 = a + p + b * 128 + tl; m2 = a + p / 2 + b * 64 + tl / 2 + r / 2
		h = 0
		if ((bd SUBSEP net SUBSEP 128 SUBSEP 1) in best && (bd SUBSEP net SUBSEP 128 SUBSEP 2) in best) h = t2 * m1 / t1 - m2
		if (h < 0) h = 0
		if (hset != "") h = hset + 0
		printf "| %s | %s | %.1f | %.1f | %.3f | %.1f | %.3f | %.1f | %.1f | %.1f | %.0f%% |\n", bd, net, a, p, b, c0, b0, tl, r, h, 100 * err
		A[bd, net] = a; P[bd, net] = p; B[bd, net] = b; TL[bd, net] = tl; R[bd, net] = r; H[bd, net] = h; C0[bd, net] = c0; B0[bd, net] = b0
	}
	print ""
	print "## Predicted speed-up T(1) ÷ T(W) (with h as in the table above)"
	print ""
	printf "| build | net | batch | |"; for (w = 1; w <= 16; w++) printf " %d |", w; print ""
	printf "|---|---|---|---|"; for (w = 1; w <= 16; w++) printf "---|"; print ""
	for (bi = 1; bi <= nb; bi++) for (ni = 1; ni <= 2; ni++) for (bb = 128; bb <= 512; bb *= 4) for (af = 0; af <= 1; af++) {
		bd = bl[bi]; net = nl[ni]
		if (!((bd, net) in A)) continue
		printf "| %s | %s | %d | %s |", bd, net, bb, af ? "after" : "before"
		for (w = 1; w <= 16; w++) {
			nr = int((bb + w - 1) / w)
			tw = TL[bd, net] / w + (w - 1) / w * R[bd, net] + (w > 1 ? H[bd, net] : 0)
			tw += af ? A[bd, net] + P[bd, net] / w + B[bd, net] * nr : C0[bd, net] + B0[bd, net] * nr
			if (w == 1) t1 = tw
			printf " %.1f |", t1 / tw
		}
		print ""
	}
}' "$1/wall.txt" "$1/cpu.txt"
}

main "$@"
