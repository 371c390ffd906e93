"""Time PyTorch training steps of a torch_cnn.py net on one random MNIST-shaped batch.

Usage: torch_steps.py THREADS BATCH [NET]   (NET: mlp, lenet5, small or resnet8; default resnet8)

Momentum SGD as cnn.sh runs it; 3 warm-up steps, then the best of 3 rounds of
10 steps, printed as samples/s of wall-clock time. The counterpart of
`bench.test -test.bench 'TrainStepCNN/NET/batch=B/'` (bench/README.md).
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_cnn  # noqa: E402

threads, batch = int(sys.argv[1]), int(sys.argv[2])
name = sys.argv[3] if len(sys.argv) > 3 else "resnet8"
torch.set_num_threads(threads)
torch.manual_seed(0)
m = torch_cnn.net(name)
opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
x = torch.rand(batch, 1, 28, 28)
y = torch.randint(0, 10, (batch,))
lossf = torch.nn.CrossEntropyLoss()


def step():
    opt.zero_grad()
    lossf(m(x), y).backward()
    opt.step()


for _ in range(3):
    step()
best = 0.0
for _ in range(3):
    t = time.perf_counter()
    for _ in range(10):
        step()
    best = max(best, 10 * batch / (time.perf_counter() - t))
print(f"torch {name} threads={threads} batch={batch}: {best:.0f} samples/s")
