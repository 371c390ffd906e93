#!/usr/bin/python3
"""Train the ptrain comparison MLP with PyTorch and print samples/s as JSON.

784-256:relu-128:relu-10:softmax on Fashion-MNIST, SGD with momentum 0.9,
lr 0.05, cross-entropy, float32: the model, optimizer and data of
`ptrain train -data fashion-mnist -arch 784-256:relu-128:relu-10:softmax
-optimizer momentum -lr 0.05`. The images are converted to float32 in [0, 1]
once, untimed; each epoch draws a random permutation and trains on every
batch in it, as ptrain does.

Usage: torch_mlp.py --threads N --batch B [--epochs E] [--dir DIR]
"""
import argparse
import ctypes
import gzip
import json
import os
import struct
import time

import numpy as np
import torch


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    nd = magic & 0xFF
    dims = struct.unpack(">" + "I" * nd, raw[4:4 + 4 * nd])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def blas_threads():
    """The threads OpenBLAS's GEMMs use in this process, or None if the BLAS
    is not OpenBLAS. torch.set_num_threads does not reach Debian's pthread
    OpenBLAS: with --threads 1 its GEMMs still use every core, unless
    OPENBLAS_NUM_THREADS=1 is set."""
    try:
        return ctypes.CDLL("libopenblas.so.0").openblas_get_num_threads()
    except (OSError, AttributeError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--dir", default="/usr/share/datasets/fashion-mnist")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x = torch.from_numpy(read_idx(os.path.join(a.dir, "train-images-idx3-ubyte.gz")).reshape(-1, 784).astype(np.float32) / 255)
    y = torch.from_numpy(read_idx(os.path.join(a.dir, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x.shape[0]
    best = 0.0
    for epoch in range(a.epochs + 1):  # epoch 0 warms up, untimed
        perm = torch.randperm(n)
        start = time.perf_counter()
        for lo in range(0, n, a.batch):
            idx = perm[lo:lo + a.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        rate = n / (time.perf_counter() - start)
        if epoch > 0:
            best = max(best, rate)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "threads": a.threads,
                      "blas_threads": blas_threads(),
                      "batch": a.batch, "samples_per_sec": round(best), "final_loss": loss.item()}))


if __name__ == "__main__":
    main()
