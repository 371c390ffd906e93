#!/usr/bin/env bash
# One machine, the same work two ways: 1 process × 2 worker goroutines
# against 2 MPI processes × 1 worker each, training the MNIST MLP
# (float32, batch 128, SGD+momentum) for EPOCHS epochs, the latter with and
# without overlapping the last layers' all-reduce with backward. Prints
# samples/s of the best epoch and the MPI time per step (time the
# coordinator waits on MPI: with overlap, what backward did not hide).
#
# Needs: apt-get install openmpi-bin libopenmpi-dev pkg-config libopenblas-dev
# Usage: bench/mpi.sh [EPOCHS] [MNIST_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-3}
DIR=${2:-../shared/datasets/mnist}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
CGO_LDFLAGS=-lopenblas go build -tags "mpi openblas" -o "$BIN/ptrain" ./cmd/ptrain
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
args=(train -data "mnist:$DIR" -arch 784-256:relu-128:relu-10:softmax -optimizer momentum -lr 0.05
	-batch 128 -epochs "$EPOCHS" -val 0 -json -quiet -out "$BIN/ck.safetensors")
summary='import json,sys
rows=[json.loads(l) for l in sys.stdin]
eps=[r for r in rows if "samples_per_sec" in r]
fin=[r for r in rows if r.get("event")=="final"][0]
print("%8.0f samples/s   MPI all-reduce %.3f ms/step   step %.3f ms" % (max(r["samples_per_sec"] for r in eps),
  fin["phase_ms"]["mpi"], sum(v for k,v in fin["phase_ms"].items() if k!="mpi")))'
printf '1 process  x 2 workers: '; "$BIN/ptrain" "${args[@]}" -workers 2 | python3 -c "$summary"
for overlap in false true; do
	printf '2 processes x 1 worker, -mpi-overlap=%s: ' $overlap
	mpirun --oversubscribe --bind-to none -np 2 "$BIN/ptrain" "${args[@]}" -workers 1 -mpi-overlap=$overlap | python3 -c "$summary"
done
