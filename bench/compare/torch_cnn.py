#!/usr/bin/python3
"""Train one of bench/compare/cnn.sh's CNNs with PyTorch on MNIST and print
samples/s as JSON.

lenet5: conv(6,5,pad 2)-relu-maxpool2-conv(16,5)-relu-maxpool2-fc 400-120-84-10
small:  conv(32,3)-relu-maxpool2-conv(64,3)-relu-maxpool2-fc 1600-128-10
resnet8: conv(16,3,pad 1)-bn-relu, an identity block of 16 channels, blocks
        of 32 and 64 channels at stride 2 with 1x1 projection shortcuts
        (ResNet v1: relu(body(x) + shortcut(x))), global average pooling, fc 64-10
        (ptrain's ResNet-8; its convolutions have biases, as ptrain's do)
Float32, SGD with momentum 0.9, lr 0.05, cross-entropy: the model, optimizer
and data of the ptrain command in cnn.sh. The images are converted to
float32 in [0, 1] once, untimed; each epoch draws a random permutation.
--channels-last stores activations NHWC (oneDNN's faster path for some nets).

Usage: torch_cnn.py --net lenet5|small|resnet8 --threads N --batch B [--epochs E] [--dir DIR] [--channels-last]
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn

from torch_mlp import blas_threads, read_idx


class Res(nn.Module):
    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x):
        return torch.relu(self.body(x) + (x if self.shortcut is None else self.shortcut(x)))


def block(cin, cout, stride):
    body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout))
    if stride == 1 and cin == cout:
        return Res(body)
    return Res(body, nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride), nn.BatchNorm2d(cout)))


def net(name):
    if name == "mlp":  # bench.BenchmarkTrainStep's MNIST MLP, 784-256:relu-128:relu-10
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "resnet8":
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                             block(16, 16, 1), block(16, 32, 2), block(32, 64, 2),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    if name == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", default="lenet5")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--dir", default="../shared/datasets/mnist")
    ap.add_argument("--channels-last", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x = torch.from_numpy(read_idx(os.path.join(a.dir, "train-images-idx3-ubyte.gz")).reshape(-1, 1, 28, 28).astype(np.float32) / 255)
    y = torch.from_numpy(read_idx(os.path.join(a.dir, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    model = net(a.net)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    n = x.shape[0]
    best = 0.0
    for epoch in range(a.epochs + 1):  # epoch 0 warms up, untimed
        perm = torch.randperm(n)
        start = time.perf_counter()
        for lo in range(0, n, a.batch):
            idx = perm[lo:lo + a.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx].contiguous(memory_format=fmt)), y[idx])
            loss.backward()
            opt.step()
        rate = n / (time.perf_counter() - start)
        if epoch > 0:
            best = max(best, rate)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "net": a.net, "threads": a.threads,
                      "blas_threads": blas_threads(), "channels_last": a.channels_last,
                      "batch": a.batch, "samples_per_sec": round(best), "final_loss": loss.item()}))


if __name__ == "__main__":
    main()
