#!/bin/sh
# old-cosine.sh COMMIT: remakes old-cosine.safetensors and
# old-cosine-resumed.sha256 with ptrain as of COMMIT (a399840 made the
# committed ones: the last ptrain whose checkpoints held no learning-rate
# schedule). The first is one epoch of a cosine run with warm-up; the
# second, the SHA-256 of the tensors (name order, data bytes) of that
# checkpoint resumed by the same ptrain to epoch 3, which
# TestOldCheckpointResumesOnItsSchedule expects of today's ptrain.
# Run from cmd/ptrain/testdata.
set -eu
commit=${1:?usage: old-cosine.sh COMMIT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$(git rev-parse --show-toplevel)" archive "$commit" | tar -x -C "$tmp"
(cd "$tmp" && go build -o ptrain ./cmd/ptrain)
args="-arch 64-16:relu-10:softmax -schedule cosine -warmup 3 -batch 32 -workers 2 -quiet"
"$tmp/ptrain" train $args -epochs 1 -out old-cosine.safetensors
cp old-cosine.safetensors "$tmp/resumed.safetensors"
"$tmp/ptrain" train -resume "$tmp/resumed.safetensors" -epochs 3 -workers 2 -quiet -out "$tmp/resumed.safetensors"
python3 - "$tmp/resumed.safetensors" > old-cosine-resumed.sha256 <<'PY'
import hashlib, json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
h.pop('__metadata__', None)
d = hashlib.sha256()
for name in sorted(h):
    lo, hi = h[name]['data_offsets']
    d.update(b[8 + n + lo:8 + n + hi])
print(d.hexdigest())
PY
