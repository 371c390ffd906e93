#!/usr/bin/python3
"""Time PyTorch to a test accuracy on MNIST or Fashion-MNIST, as JSON.

The recipe is ptrain's README recipe: 784-256:relu-128:relu-10:softmax, SGD
momentum 0.9, lr 0.05 with a cosine schedule stepped per batch over EPOCHS
epochs, batch 128, float32, He-uniform weights and zero biases. After every
epoch the test set is evaluated (untimed); the result is the training time
(evaluation excluded) until the test accuracy first reaches TARGET.

Usage: torch_accuracy.py --dir DIR --target 0.98 [--epochs 20] [--threads 1]
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch

from torch_mlp import read_idx


def load(d, split):
    x = read_idx(os.path.join(d, f"{split}-images-idx3-ubyte.gz")).reshape(-1, 784).astype(np.float32) / 255
    y = read_idx(os.path.join(d, f"{split}-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--target", type=float, required=True)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x, y = load(a.dir, "train")
    tx, ty = load(a.dir, "t10k")
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    n = x.shape[0]
    steps = math.ceil(n / a.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs * steps)
    loss_fn = torch.nn.CrossEntropyLoss()
    trained, reached, history = 0.0, None, []
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(n)
        start = time.perf_counter()
        model.train()
        for lo in range(0, n, a.batch):
            idx = perm[lo:lo + a.batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
            sched.step()
        trained += time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            acc = (model(tx).argmax(1) == ty).float().mean().item()
        history.append(round(acc, 4))
        if reached is None and acc >= a.target:
            reached = {"epoch": epoch, "train_s": round(trained, 2)}
    print(json.dumps({"framework": "pytorch " + torch.__version__, "threads": a.threads, "target": a.target,
                      "reached": reached, "final_accuracy": history[-1], "history": history}))


if __name__ == "__main__":
    main()
