#!/usr/bin/python3
"""Write the first N training and the first TEST_N test samples of an
MNIST-style IDX data set (the four train-/t10k- files, .gz) into another
folder, for a smoke run of bench/compare/recipe.sh.

Usage: idx_head.py SRC DST N [TEST_N]   (TEST_N defaults to N; either is
capped at the split's size)
"""
import gzip
import os
import struct
import sys

from torch_mlp import read_idx


def main():
    if len(sys.argv) not in (4, 5) or not all(v.isdigit() and int(v) > 0 for v in sys.argv[3:]):
        print("usage: idx_head.py SRC DST N [TEST_N]   (N, TEST_N: positive integers)", file=sys.stderr)
        sys.exit(2)
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    test_n = int(sys.argv[4]) if len(sys.argv) == 5 else n
    os.makedirs(dst, exist_ok=True)
    for split, k in (("train", n), ("t10k", test_n)):
        for kind in ("images-idx3", "labels-idx1"):
            name = f"{split}-{kind}-ubyte.gz"
            a = read_idx(os.path.join(src, name))[:k]
            header = struct.pack(">I", 0x0800 | a.ndim) + struct.pack(">" + "I" * a.ndim, *a.shape)
            with gzip.open(os.path.join(dst, name), "wb", compresslevel=1) as f:
                f.write(header + a.tobytes())


if __name__ == "__main__":
    main()
