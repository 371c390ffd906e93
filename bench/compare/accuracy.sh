#!/usr/bin/env bash
# Time to a test accuracy, PyTorch against ptrain: 98% on MNIST and 88% on
# Fashion-MNIST with the README's recipe (momentum SGD 0.05, cosine over 20
# epochs, batch 128, 784-256-128-10). Both sides evaluate the test set after
# every epoch and count training time only. PyTorch runs with its best
# 2-core setting (2 threads, OMP_WAIT_POLICY=PASSIVE) and with 1 thread
# (whose GEMMs still use both cores: see run.sh);
# ptrain with -tags openblas and 2 workers.
#
# Needs: apt-get install python3-torch dataset-fashion-mnist libopenblas-dev
# Usage: bench/compare/accuracy.sh [MNIST_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
MNIST=${1:-../shared/datasets/mnist}
FASHION=${FASHION_DIR:-/usr/share/datasets/fashion-mnist}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
CGO_LDFLAGS=-lopenblas go build -tags openblas -o "$BIN/ptrain" ./cmd/ptrain

ptrain_time() { # data target
	"$BIN/ptrain" train -data "$1" -arch 784-256:relu-128:relu-10:softmax -optimizer momentum -lr 0.05 \
		-schedule cosine -epochs 20 -batch 128 -workers 2 -val-on-test -json -quiet -out "$BIN/ck.safetensors" |
		python3 -c 'import json,sys
target=float(sys.argv[1]); t=0.0; hit=None; last=None
for l in sys.stdin:
    r=json.loads(l)
    if "epoch_s" not in r: continue
    t+=r["epoch_s"]; last=r["val_accuracy"]
    if hit is None and last>=target: hit="%.1f s (epoch %d)"%(t,r["epoch"])
print(hit or "not reached (final %.4f)"%last)' "$2"
}
torch_time() { # dir target threads [env...]
	local d=$1 tg=$2 th=$3; shift 3
	env "$@" /usr/bin/python3 bench/compare/torch_accuracy.py --dir "$d" --target "$tg" --threads "$th" |
		python3 -c 'import json,sys
r=json.load(sys.stdin); h=r["reached"]
print("%.1f s (epoch %d)"%(h["train_s"],h["epoch"]) if h else "not reached (final %.4f)"%r["final_accuracy"])'
}
printf '%-14s %-8s %-26s %-26s %-26s\n' dataset target "ptrain 2 workers" "PyTorch 2 threads PASSIVE" "PyTorch 1 thread"
for spec in "mnist:$MNIST 0.98 $MNIST" "fashion-mnist:$FASHION 0.88 $FASHION"; do
	set -- $spec
	printf '%-14s %-8s %-26s %-26s %-26s\n' "${1%%:*}" "$2" "$(ptrain_time "$1" "$2")" \
		"$(torch_time "$3" "$2" 2 OMP_WAIT_POLICY=PASSIVE)" "$(torch_time "$3" "$2" 1)"
done
