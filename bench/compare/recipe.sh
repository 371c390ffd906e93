#!/usr/bin/env bash
# One training recipe, ptrain and its PyTorch twin side by side: ResNet-8
# (or ARCH) on Fashion-MNIST or MNIST, momentum SGD (0.9, no Nesterov) with
# LR, coupled weight decay WD on every parameter, the cosine schedule per
# step, batch BATCH, augmentation AUG, all 60,000 training images (no
# validation split) and the test set scored after every epoch. The twin is
# examples/torch_twin.py's module of ptrain's spec, starting from ptrain's
# initial weights (`ptrain train -epochs 0`, given to ptrain as -init);
# bench/compare/torch_recipe.py says how each part of the recipe is matched.
# Before the table, recipe_table.py checks that both start from the same
# test loss and step the same learning rates.
#
# Prints one row per tool: epochs, test accuracy (last and best epoch),
# training time, wall and CPU time of the whole process, samples/s and
# peak RSS (GNU time); then each tool's test accuracy per epoch.
#
# Needs: apt-get install python3-torch python3-torchvision time, and the IDX
# files. Runs the two trainings one after the other; give the machine to it.
#
# Usage: bench/compare/recipe.sh [EPOCHS] [DATA] [AUG]
#   EPOCHS  default 15
#   DATA    fashion-mnist (default; /usr/share/datasets/fashion-mnist),
#           mnist (../shared/datasets/mnist beside the repository), or
#           fashion-mnist:DIR, mnist:DIR
#   AUG     ptrain's -augment list that PyTorch's side runs as torchvision's
#           RandomCrop(28, padding=P), RandomHorizontalFlip and RandomErasing():
#           crop=P, flip, erase, comma-separated (default crop=2,flip); none
#           for no augmentation
# Environment (defaults): LR (0.05), WD (5e-4), BATCH (128), SEED (1),
#   WORKERS (2: ptrain's workers), TORCH_THREADS (2) and OMP_WAIT_POLICY
#   (PASSIVE: PyTorch's best 2-core setting, bench/README.md), TAGS (empty:
#   the default build; openblas: -tags openblas, OPENBLAS_NUM_THREADS=1),
#   ARCH (ResNet-8's spec), LIMIT (train on the first LIMIT images and test
#   on the first LIMIT test images: a smoke run), OUT (a folder that keeps
#   the records: the JSON lines, GNU time's figures, init.safetensors and
#   ptrain's trained ptrain.safetensors).
set -euo pipefail
usage() {
	echo "recipe.sh: $1" >&2
	echo "usage: bench/compare/recipe.sh [EPOCHS] [DATA] [AUG]   (see the comment at the top of the script)" >&2
	exit 2
}
[ $# -le 3 ] || usage "at most 3 arguments, got $#"
EPOCHS=${1:-15}
DATA=${2:-fashion-mnist}
AUG=${3:-crop=2,flip}
[[ $EPOCHS =~ ^[1-9][0-9]*$ ]] || usage "EPOCHS $EPOCHS: want a positive integer"
case $DATA in # a DIR given is relative to the caller's folder, the default MNIST's to the repository
fashion-mnist) KIND=fashion-mnist DIR=/usr/share/datasets/fashion-mnist ;;
mnist) KIND=mnist DIR=$(realpath -m "$(dirname "$0")/../../../shared/datasets/mnist") ;;
fashion-mnist:?* | mnist:?*) KIND=${DATA%%:*} DIR=$(realpath -m "${DATA#*:}") ;;
*) usage "DATA $DATA: want fashion-mnist, mnist, fashion-mnist:DIR or mnist:DIR" ;;
esac
[ -z "${OUT:-}" ] || OUT=$(realpath -m "$OUT")
cd "$(dirname "$0")/../.."
if [ "$AUG" != none ]; then
	IFS=, read -ra ops <<<"$AUG,"
	for op in "${ops[@]}"; do
		[[ $op =~ ^(crop=[0-9]+|flip|erase)$ ]] || usage "AUG $AUG: \"$op\" is not crop=P, flip or erase (or give none): the ops PyTorch's side runs"
	done
fi
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
	[ -r "$DIR/$f" ] || usage "DATA $DATA: $DIR/$f is missing (the four IDX .gz files of MNIST or Fashion-MNIST)"
done
[[ ${LIMIT:-1} =~ ^[1-9][0-9]*$ ]] || usage "LIMIT $LIMIT: want a positive integer"
[[ ${TAGS:-} =~ ^(openblas)?$ ]] || usage "TAGS $TAGS: want empty or openblas"
[ -x /usr/bin/time ] || usage "needs GNU time at /usr/bin/time (apt-get install time)"
ARCH=${ARCH:-"1x28x28-conv(16,3,pad=1)-bn:relu-res(conv(16,3,pad=1)-bn:relu-conv(16,3,pad=1)-bn):relu-res(conv(32,3,stride=2,pad=1)-bn:relu-conv(32,3,pad=1)-bn|conv(32,1,stride=2)-bn):relu-res(conv(64,3,stride=2,pad=1)-bn:relu-conv(64,3,pad=1)-bn|conv(64,1,stride=2)-bn):relu-gap-10:softmax"}
LR=${LR:-0.05} WD=${WD:-5e-4} BATCH=${BATCH:-128} SEED=${SEED:-1} WORKERS=${WORKERS:-2}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
REC=${OUT:-$WORK}
mkdir -p "$REC"
if [ -n "${LIMIT:-}" ]; then
	/usr/bin/python3 bench/compare/idx_head.py "$DIR" "$WORK/data" "$LIMIT"
	DIR=$WORK/data
fi
if [ -n "${TAGS:-}" ]; then
	CGO_LDFLAGS=-lopenblas go build -tags openblas -o "$WORK/ptrain" ./cmd/ptrain
else
	go build -o "$WORK/ptrain" ./cmd/ptrain
fi

"$WORK/ptrain" train -data "$KIND:$DIR" -arch "$ARCH" -seed "$SEED" -epochs 0 -json -quiet \
	-out "$REC/init.safetensors" -overwrite >"$REC/init.json"
augflag=()
[ "$AUG" = none ] || augflag=(-augment "$AUG")
OPENBLAS_NUM_THREADS=1 /usr/bin/time -f '%e %U %S %M' -o "$REC/ptrain.time" \
	"$WORK/ptrain" train -data "$KIND:$DIR" -arch "$ARCH" -init "$REC/init.safetensors" -seed "$SEED" \
	-optimizer momentum -lr "$LR" -weight-decay "$WD" -schedule cosine -epochs "$EPOCHS" -batch "$BATCH" \
	"${augflag[@]}" -val-on-test -workers "$WORKERS" -json -quiet -out "$REC/ptrain.safetensors" -overwrite >"$REC/ptrain.jsonl"
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} /usr/bin/time -f '%e %U %S %M' -o "$REC/torch.time" \
	/usr/bin/python3 bench/compare/torch_recipe.py --init "$REC/init.safetensors" --dir "$DIR" --epochs "$EPOCHS" \
	--aug "$AUG" --lr "$LR" --weight-decay "$WD" --batch "$BATCH" --threads "${TORCH_THREADS:-2}" --seed "$SEED" \
	>"$REC/torch.jsonl"
/usr/bin/python3 bench/compare/recipe_table.py "$REC" "${KIND}${LIMIT:+[:$LIMIT]} $AUG"
