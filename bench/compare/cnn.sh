#!/usr/bin/env bash
# Side-by-side: PyTorch against ptrain -tags openblas (1 and 2 workers),
# training LeNet-5, the small CNN and ResNet-8 of bench/README.md on MNIST with
# SGD+momentum at batch 64 and 128. Each figure is the best of EPOCHS timed
# epochs (samples/s), after one untimed epoch; ratios are to PyTorch
# figures of this one run.
#
# PyTorch runs five ways: 1 core (torch.set_num_threads(1) and
# OPENBLAS_NUM_THREADS=1), 2 threads, 2 threads with OMP_WAIT_POLICY=PASSIVE,
# and those two with channels-last. "best" is the fastest of them, "1core"
# the match for 1 ptrain worker.
#
# Needs: apt-get install python3-torch libopenblas-dev, and MNIST's IDX files.
# Usage: bench/compare/cnn.sh [EPOCHS] [MNIST_DIR] [NETS]   (from anywhere; NETS
# defaults to "lenet5 small resnet8")
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=${1:-1}
DIR=$(realpath "${2:-../shared/datasets/mnist}")
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -tags openblas -o "$BIN/ptrain-openblas" ./cmd/ptrain

declare -A ARCH=(
	[lenet5]="1x28x28-conv(6,5,pad=2):relu-maxpool(2)-conv(16,5):relu-maxpool(2)-flatten-120:relu-84:relu-10:softmax"
	[small]="1x28x28-conv(32,3):relu-maxpool(2)-conv(64,3):relu-maxpool(2)-flatten-128:relu-10:softmax"
	[resnet8]="1x28x28-conv(16,3,pad=1)-bn:relu-res(conv(16,3,pad=1)-bn:relu-conv(16,3,pad=1)-bn):relu-res(conv(32,3,stride=2,pad=1)-bn:relu-conv(32,3,pad=1)-bn|conv(32,1,stride=2)-bn):relu-res(conv(64,3,stride=2,pad=1)-bn:relu-conv(64,3,pad=1)-bn|conv(64,1,stride=2)-bn):relu-gap-10:softmax"
)
torch() { # net threads batch [flags] [env...]
	local n=$1 t=$2 b=$3 f=$4; shift 4
	(cd bench/compare && env "$@" /usr/bin/python3 torch_cnn.py --net "$n" --threads "$t" --batch "$b" --epochs "$EPOCHS" --dir "$DIR" $f) |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["samples_per_sec"])'
}
ptrain() { # net workers batch
	"$BIN/ptrain-openblas" train -data "mnist:$DIR" -arch "${ARCH[$1]}" -optimizer momentum -lr 0.05 \
		-batch "$3" -workers "$2" -epochs $((EPOCHS + 1)) -val 0 -json -quiet -out "$BIN/ck.safetensors" |
		python3 -c 'import json,sys
rows=[json.loads(l) for l in sys.stdin if "samples_per_sec" in l]
print(round(max(r["samples_per_sec"] for r in rows[1:])))'  # epoch 1 warms up
}

printf '%-7s %-6s %10s %9s %10s %10s %12s %12s %12s %8s %10s\n' net batch torch-1core torch-2t torch-2t-P torch-2t-CL torch-2t-P-CL \
	ptrain-ob-1w ptrain-ob-2w 2w/best 1w/1core
for n in ${3:-lenet5 small resnet8}; do
	for b in 64 128; do
		tc=$(torch "$n" 1 "$b" "" OPENBLAS_NUM_THREADS=1)
		t2=$(torch "$n" 2 "$b" "")
		tp=$(torch "$n" 2 "$b" "" OMP_WAIT_POLICY=PASSIVE)
		tl=$(torch "$n" 2 "$b" --channels-last)
		tpl=$(torch "$n" 2 "$b" --channels-last OMP_WAIT_POLICY=PASSIVE)
		p1=$(ptrain "$n" 1 "$b")
		p2=$(ptrain "$n" 2 "$b")
		best=$(printf '%s\n' "$tc" "$t2" "$tp" "$tl" "$tpl" | sort -n | tail -1)
		printf '%-7s %-6s %10s %9s %10s %10s %12s %12s %12s %8s %10s\n' "$n" "$b" "$tc" "$t2" "$tp" "$tl" "$tpl" "$p1" "$p2" \
			"$(python3 -c "print(f'{$p2/$best:.2f}x')")" "$(python3 -c "print(f'{$p1/$tc:.2f}x')")"
	done
done
