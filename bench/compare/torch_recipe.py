#!/usr/bin/python3
"""Train the PyTorch twin of a ptrain checkpoint with ptrain's recipe, as
JSON lines: bench/compare/recipe.sh's PyTorch side.

The net is examples/torch_twin.py's twin of INIT's spec, starting from
INIT's weights (ptrain's own initialisation, written by `ptrain train
-epochs 0`), float32, its final softmax dropped for CrossEntropyLoss on the
logits. The recipe is what `ptrain train -optimizer momentum -lr LR
-weight-decay WD -schedule cosine -epochs E -batch B -augment AUG
-val-on-test` does:

- data: the training set of DIR's IDX files, all of it (no validation
  split), kept as bytes and converted to pixels / 255 batch by batch, as
  ptrain fills its rows; the test set is evaluated after every epoch, in
  eval mode (batch norm's running statistics), untimed;
- every epoch a fresh permutation, batches of B in order, the last one
  smaller (ceil(N/B) steps per epoch);
- torch.optim.SGD(momentum 0.9, dampening 0, nesterov off, weight_decay WD)
  over every parameter, biases and batch norm's scale and shift included:
  ptrain's -weight-decay is coupled L2 on every parameter (g ← g + λ·p
  before the momentum), so there are no parameter groups;
- the rate of step s (0-based, before it is taken), set before each step:
  lr(s) = LR·(1 + cos(π·min(e/E, 1)))/2 with e = s/steps-per-epoch, the
  float64 expression of optim.Schedule.LR for cosine with floor 0;
- AUG: crop=P is torchvision's RandomCrop(size, padding=P) and flip its
  RandomHorizontalFlip(0.5), drawn per sample with torch's generator and
  applied to the whole batch in one gather inside the timed loop (before
  training, check_augment compares the gather with torchvision's
  functional pad, crop and hflip at the same offsets, pixel for pixel);
  erase is RandomErasing() (p 0.5, scale (0.02, 0.33), ratio (0.3, 3.3),
  value 0) on the pixels / 255, after the crop and flip as in ptrain, its
  boxes drawn for the whole batch at once (check_erase compares them with
  torchvision's functional erase).

Output, one JSON object a line: {"event": "init", "test_loss",
"test_accuracy"} for INIT's weights before any step, one {"event": "epoch",
"epoch", "train_loss", "test_loss", "test_accuracy", "lr", "epoch_s"} per
epoch (epoch_s: training only; lr: the last step's, as ptrain reports it),
and {"event": "final", "train_s", "samples_per_sec", "threads", ...}.

Usage: torch_recipe.py --init CKPT --dir DIR [--epochs 15] [--aug crop=2,flip,erase|none]
       [--lr 0.05] [--weight-decay 5e-4] [--batch 128] [--threads 2] [--seed 1]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))
import torch_twin  # noqa: E402
from torch_mlp import blas_threads, read_idx  # noqa: E402


def parse_augment(s):
    """(padding, flip, erase) of an -augment list that PyTorch's side can
    run: crop=P, flip and erase, or none."""
    pad, flip, erase = 0, False, False
    if s in ("", "none"):
        return pad, flip, erase
    for op in s.split(","):
        if op == "flip":
            flip = True
        elif op == "erase":
            erase = True
        elif op.startswith("crop=") and op[5:].isdigit():
            pad = int(op[5:])
        else:
            raise SystemExit(f"torch_recipe.py: --aug {s!r}: {op!r} is not crop=P, flip or erase (the ops this twin runs)")
    return pad, flip, erase


def load(d, split, shape):
    """The images of DIR's split as uint8 (N, C, H, W), as ptrain keeps
    them (1 byte a value), and the labels."""
    x = read_idx(os.path.join(d, f"{split}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(d, f"{split}-labels-idx1-ubyte.gz"))
    return torch.from_numpy(x.copy()).reshape([-1] + shape), torch.from_numpy(y.astype(np.int64))


def pixels(x):
    """uint8 x as float32 values / 255 (torchvision's ToTensor), for one batch."""
    return x.to(torch.float32).div_(255)


def augment(x, pad, flip, gen):
    """x (B, C, H, W), any dtype, zero-padded by pad on each side, cropped back to H×W
    at a random offset per sample (i, j uniform in [0, 2·pad]), and each
    sample flipped left-right with probability 0.5: one gather.
    Returns the batch and the draws (i, j, flipped)."""
    b, c, h, w = x.shape
    i = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    j = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    f = torch.rand(b, generator=gen) < 0.5 if flip else torch.zeros(b, dtype=torch.bool)
    xp = nn.functional.pad(x, (pad, pad, pad, pad)) if pad else x
    rows = i[:, None] + torch.arange(h)                                       # (B, H)
    cols = j[:, None] + torch.where(f[:, None], torch.arange(w - 1, -1, -1), torch.arange(w))  # (B, W)
    out = xp[torch.arange(b)[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous(), (i, j, f)


def check_augment(x, pad, flip):
    """Raises unless augment equals torchvision's functional ops, pad then
    crop at (i, j) then hflip where drawn, on every sample of x."""
    import torchvision.transforms.functional as TF
    got, (i, j, f) = augment(x, pad, flip, torch.Generator().manual_seed(0))
    h, w = x.shape[2:]
    for k in range(x.shape[0]):
        want = TF.crop(TF.pad(x[k], [pad]), int(i[k]), int(j[k]), h, w)
        if f[k]:
            want = TF.hflip(want)
        if not torch.equal(got[k], want):
            raise SystemExit(f"torch_recipe.py: augment differs from torchvision's ops on sample {k} (offset {int(i[k])},{int(j[k])}, flip {bool(f[k])})")


def erase_boxes(b, h, w, gen):
    """RandomErasing()'s get_params (p 0.5, scale (0.02, 0.33), ratio
    (0.3, 3.3)) for b samples at once: the box (i, j, eh, ew) of each, eh 0
    where the sample is not erased. As torchvision: up to 10 tries of an
    area and a log-uniform aspect ratio, rounded as Python's round, until
    the box fits inside the image; none if no try fits."""
    on = torch.rand(b, generator=gen) < 0.5
    i, j = torch.zeros(b, dtype=torch.long), torch.zeros(b, dtype=torch.long)
    eh, ew = torch.zeros(b, dtype=torch.long), torch.zeros(b, dtype=torch.long)
    todo = on.clone()
    lo, hi = math.log(0.3), math.log(3.3)
    for _ in range(10):
        area = h * w * torch.empty(b, dtype=torch.float64).uniform_(0.02, 0.33, generator=gen)
        ratio = torch.exp(torch.empty(b, dtype=torch.float64).uniform_(lo, hi, generator=gen))
        th = torch.round(torch.sqrt(area * ratio)).long()  # round half to even, as Python's round
        tw = torch.round(torch.sqrt(area / ratio)).long()
        fit = todo & (th < h) & (tw < w)
        ui = torch.rand(b, dtype=torch.float64, generator=gen)
        uj = torch.rand(b, dtype=torch.float64, generator=gen)
        i = torch.where(fit, (ui * (h - th + 1).clamp(min=1)).long(), i)
        j = torch.where(fit, (uj * (w - tw + 1).clamp(min=1)).long(), j)
        eh, ew = torch.where(fit, th, eh), torch.where(fit, tw, ew)
        todo &= ~fit
    return i, j, eh, ew


def erase(x, boxes):
    """x (B, C, H, W) float with each sample's box set to 0 (in place)."""
    i, j, eh, ew = boxes
    h, w = x.shape[2:]
    r = torch.arange(h)[None, :]
    c = torch.arange(w)[None, :]
    rows = (r >= i[:, None]) & (r < (i + eh)[:, None])  # (B, H)
    cols = (c >= j[:, None]) & (c < (j + ew)[:, None])  # (B, W)
    x.masked_fill_((rows[:, :, None] & cols[:, None, :])[:, None], 0)
    return x


def check_erase(x):
    """Raises unless erase equals torchvision's functional erase (value 0)
    at the same boxes, on every sample of x, and every box lies inside the
    image."""
    import torchvision.transforms.functional as TF
    x = pixels(x)
    b, _, h, w = x.shape
    boxes = erase_boxes(b, h, w, torch.Generator().manual_seed(0))
    got = erase(x.clone(), boxes)
    for k, (i, j, eh, ew) in enumerate(zip(*[t.tolist() for t in boxes])):
        want = TF.erase(x[k], i, j, eh, ew, torch.tensor(0.0)) if eh else x[k]
        if eh and not (0 < eh < h and 0 < ew < w and i + eh <= h and j + ew <= w):
            raise SystemExit(f"torch_recipe.py: erase box {i},{j} {eh}x{ew} of sample {k} is not inside the {h}x{w} image")
        if not torch.equal(got[k], want):
            raise SystemExit(f"torch_recipe.py: erase differs from torchvision's on sample {k} (box {i},{j} {eh}x{ew})")


def evaluate(net, x, y, batch=1000):
    """Mean cross-entropy and accuracy of net on (x, y), in eval mode."""
    net.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for lo in range(0, x.shape[0], batch):
            out = net(pixels(x[lo:lo + batch]))
            loss += nn.functional.cross_entropy(out, y[lo:lo + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[lo:lo + batch]).sum().item()
    net.train()
    return loss / x.shape[0], correct / x.shape[0]


def emit(**kv):
    print(json.dumps(kv), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--init", required=True, help="ptrain checkpoint with the initial weights (ptrain train -epochs 0)")
    ap.add_argument("--dir", required=True, help="folder of the four IDX .gz files")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--aug", default="crop=2,flip")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.epochs < 1 or a.batch < 1 or a.threads < 1:
        raise SystemExit(f"torch_recipe.py: --epochs {a.epochs}, --batch {a.batch}, --threads {a.threads}: each must be ≥ 1")
    pad, flip, erasing = parse_augment(a.aug)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)

    net, _, meta = torch_twin.load(a.init)
    if next(net.parameters()).dtype != torch.float32:
        raise SystemExit(f"torch_recipe.py: {a.init}: a float64 checkpoint; the recipe trains float32")
    if isinstance(net[-1], nn.Softmax):
        net = net[:-1]  # CrossEntropyLoss takes the logits
    else:
        raise SystemExit(f"torch_recipe.py: {a.init}: the spec does not end in :softmax, the classification head the recipe trains")
    shape = [int(v) for v in meta["ptrain.arch"].split("-")[0].split("x")]
    x, y = load(a.dir, "train", shape)
    tx, ty = load(a.dir, "t10k", shape)
    if pad or flip:
        check_augment(x[:64], pad, flip)
    if erasing:
        check_erase(x[:64])

    loss0, acc0 = evaluate(net, tx, ty)
    emit(event="init", test_loss=loss0, test_accuracy=acc0)

    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9, dampening=0, nesterov=False,
                          weight_decay=a.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    n = x.shape[0]
    spe = math.ceil(n / a.batch)
    step, trained = 0, 0.0
    net.train()
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(n, generator=gen)
        loss_sum = 0.0
        start = time.perf_counter()
        for lo in range(0, n, a.batch):
            lr = a.lr * (1 + math.cos(math.pi * min(step / spe / a.epochs, 1))) / 2
            for g in opt.param_groups:
                g["lr"] = lr
            idx = perm[lo:lo + a.batch]
            xb = x[idx]
            if pad or flip:
                xb, _ = augment(xb, pad, flip, gen)
            xb = pixels(xb)
            if erasing:
                xb = erase(xb, erase_boxes(xb.shape[0], xb.shape[2], xb.shape[3], gen))
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xb), y[idx])
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            step += 1
        epoch_s = time.perf_counter() - start
        trained += epoch_s
        test_loss, test_acc = evaluate(net, tx, ty)
        emit(event="epoch", epoch=epoch, train_loss=loss_sum / n, test_loss=test_loss, test_accuracy=test_acc,
             lr=lr, epoch_s=epoch_s)
    emit(event="final", framework="pytorch " + torch.__version__, threads=a.threads, blas_threads=blas_threads(),
         omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", ""), train_s=trained,
         samples_per_sec=a.epochs * n / trained, test_accuracy=test_acc)


if __name__ == "__main__":
    main()
