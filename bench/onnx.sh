#!/usr/bin/env bash
# onnxruntime's inference throughput beside ptrain's, for the same models
# and weights, batch 1 and 256, one thread each (bench/README.md).
#
#   bench/onnx.sh [ROUNDS]
#
# ptrain: BenchmarkPredict (the forward pass ptrain predict runs) with -cpu 1,
# pure Go and, where libopenblas is installed, OpenBLAS (OPENBLAS_NUM_THREADS=1).
# onnxruntime: examples/onnxruntime/run.js -bench (onnxruntime-node, intra-
# and inter-op threads 1) on the models BenchmarkPredict writes. The runs
# alternate, ROUNDS times (default 3); compare the best of each.
# Needs onnxruntime-node: cd examples/onnxruntime && ONNXRUNTIME_NODE_INSTALL=skip npm ci
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
blas=()
if [ -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] || ldconfig -p 2>/dev/null | grep -q libopenblas; then
	blas=(openblas)
fi
for r in $(seq "$rounds"); do
	echo "== round $r"
	PTRAIN_ONNX_DIR="$tmp" go test -run XXX -bench BenchmarkPredict -cpu 1 -benchtime 2s ./bench/ | grep -E '^Benchmark' | sed 's/^/pure Go   /'
	for b in "${blas[@]}"; do
		OPENBLAS_NUM_THREADS=1 CGO_LDFLAGS=-lopenblas go test -tags openblas -run XXX -bench BenchmarkPredict -cpu 1 -benchtime 2s ./bench/ | grep -E '^Benchmark' | sed 's/^/OpenBLAS  /'
	done
	for m in digits-mlp mnist-mlp mnist-cnn-bn resnet8; do
		for n in 1 256; do
			printf 'onnxruntime %-13s ' "$m" && node examples/onnxruntime/run.js "$tmp/$m.onnx" -bench "$n"
		done
	done
done
