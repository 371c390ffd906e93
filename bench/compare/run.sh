#!/usr/bin/env bash
# Side-by-side: PyTorch against ptrain -tags openblas (1 and 2 workers) and
# pure-Go ptrain (2 workers), training the same MLP on Fashion-MNIST with
# SGD+momentum at batch 32, 128 and 512. Each figure is the best of EPOCHS
# timed epochs (samples/s); ratios are to PyTorch figures of this one run.
#
# PyTorch runs four ways: 1 thread (torch.set_num_threads(1), as a user
# would set it — Debian's pthread OpenBLAS ignores it, so its GEMMs still
# use both cores), 1 core (the same plus OPENBLAS_NUM_THREADS=1: really one
# core, the fair match for 1 ptrain worker), 2 threads as shipped, and
# 2 threads with OMP_WAIT_POLICY=PASSIVE. "best" is the fastest of the four.
#
# Needs: apt-get install python3-torch dataset-fashion-mnist libopenblas-dev
# Usage: bench/compare/run.sh [EPOCHS]   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=${1:-2}
DIR=${FASHION_DIR:-/usr/share/datasets/fashion-mnist}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
CGO_LDFLAGS=-lopenblas go build -tags openblas -o "$BIN/ptrain-openblas" ./cmd/ptrain
go build -o "$BIN/ptrain-go" ./cmd/ptrain

torch() { # threads batch [env...]
	local t=$1 b=$2; shift 2
	env "$@" /usr/bin/python3 bench/compare/torch_mlp.py --threads "$t" --batch "$b" --epochs "$EPOCHS" --dir "$DIR" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["samples_per_sec"])'
}
ptrain() { # binary workers batch
	"$BIN/$1" train -data "fashion-mnist:$DIR" -arch 784-256:relu-128:relu-10:softmax -optimizer momentum -lr 0.05 \
		-batch "$3" -workers "$2" -epochs $((EPOCHS + 1)) -val 0 -json -quiet -out "$BIN/ck.safetensors" |
		python3 -c 'import json,sys
rows=[json.loads(l) for l in sys.stdin if "samples_per_sec" in l]
print(round(max(r["samples_per_sec"] for r in rows[1:])))'  # epoch 1 warms up
}

printf '%-6s %9s %10s %9s %10s %12s %12s %10s %8s %9s\n' batch torch-1t torch-1core torch-2t torch-2t-P \
	ptrain-ob-1w ptrain-ob-2w ptrain-go-2w 2w/best 1w/1core
for b in 32 128 512; do
	t1=$(torch 1 "$b")
	tc=$(torch 1 "$b" OPENBLAS_NUM_THREADS=1)
	t2=$(torch 2 "$b")
	tp=$(torch 2 "$b" OMP_WAIT_POLICY=PASSIVE)
	p1=$(ptrain ptrain-openblas 1 "$b")
	p2=$(ptrain ptrain-openblas 2 "$b")
	g2=$(ptrain ptrain-go 2 "$b")
	best=$(printf '%s\n' "$t1" "$tc" "$t2" "$tp" | sort -n | tail -1)
	printf '%-6s %9s %10s %9s %10s %12s %12s %10s %8s %9s\n' "$b" "$t1" "$tc" "$t2" "$tp" "$p1" "$p2" "$g2" \
		"$(python3 -c "print(f'{$p2/$best:.2f}x')")" "$(python3 -c "print(f'{$p1/$tc:.2f}x')")"
done
