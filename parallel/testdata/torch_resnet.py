#!/usr/bin/python3
"""Writes torch_resnet.safetensors: a small ResNet with both kinds of
shortcut as PyTorch 1.13 computes it, for parallel's TestMatchesPyTorch.

    /usr/bin/python3 parallel/testdata/torch_resnet.py   (from the repository root)

The spec (parallel's torchResNetSpec)
  1x6x6-conv(3,3,pad=1)-bn:relu
  -res(conv(3,3,pad=1)-bn:relu-conv(3,3,pad=1)-bn):relu
  -res(conv(4,3,stride=2,pad=1)-bn:relu-conv(4,3,pad=1)-bn|conv(4,1,stride=2)-bn):relu
  -gap-3:softmax
is built below in float64 with PyTorch's default initialisation: an
identity block and a strided block with a projection shortcut, each
relu(body(x) + shortcut(x)), then AdaptiveAvgPool2d(1), Flatten and a
Linear head. The file holds, as torch_cnn.py's does, under ptrain's names
(each kind counted in spec order, a block's body before its shortcut):
  init.<tensor>   the initial weights and running statistics
  x0, y0, x1, y1  two batches (8 and 5 rows; y one-hot)
  sgd.<tensor>    every tensor after two steps of SGD (lr 0.1) on x0 then x1
  adam.<tensor>   the same after two steps of Adam (lr 0.01, PyTorch's defaults otherwise)
under nn.CrossEntropyLoss on the logits.
"""
import json
import struct

import torch
from torch import nn

torch.set_default_dtype(torch.float64)


class Res(nn.Module):
    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x):
        return torch.relu(self.body(x) + (x if self.shortcut is None else self.shortcut(x)))


def net():
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
        Res(nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3))),
        Res(nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)),
            nn.Sequential(nn.Conv2d(3, 4, 1, stride=2), nn.BatchNorm2d(4))),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


KINDS = {nn.Linear: "dense", nn.Conv2d: "conv", nn.BatchNorm2d: "bn"}


def tensors(m, prefix):
    names, count = {}, {}
    for name, mod in m.named_modules():  # body before shortcut: ptrain's order
        kind = KINDS.get(type(mod))
        if kind:
            names[name] = f"{kind}.{count.get(kind, 0)}"
            count[kind] = count.get(kind, 0) + 1
    out = {}
    for k, v in m.state_dict().items():
        module, t = k.rsplit(".", 1)
        out[prefix + names[module] + "." + t] = v.detach().clone()
    return out


g = torch.Generator().manual_seed(2)
batches = []
for n in (8, 5):
    x = torch.randn(n, 1, 6, 6, generator=g)
    labels = torch.randint(0, 3, (n,), generator=g)
    batches.append((x, labels))

out = tensors(net(), "init.")
for i, (x, labels) in enumerate(batches):
    out[f"x{i}"] = x.reshape(len(x), -1)
    out[f"y{i}"] = nn.functional.one_hot(labels, 3).double()

for name, make in (("sgd", lambda p: torch.optim.SGD(p, lr=0.1)), ("adam", lambda p: torch.optim.Adam(p, lr=0.01))):
    m = net()
    m.train()
    opt = make(m.parameters())
    for x, labels in batches:
        opt.zero_grad()
        nn.functional.cross_entropy(m(x), labels).backward()
        opt.step()
    out.update(tensors(m, name + "."))

header, blobs, off = {}, [], 0
for k in sorted(out):
    v = out[k].contiguous()
    if v.dtype == torch.int64:
        data, dtype = struct.pack("<%dq" % v.numel(), *v.flatten().tolist()), "I64"
    else:
        data, dtype = struct.pack("<%dd" % v.numel(), *v.flatten().tolist()), "F64"
    header[k] = {"dtype": dtype, "shape": list(v.shape), "data_offsets": [off, off + len(data)]}
    blobs.append(data)
    off += len(data)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open("parallel/testdata/torch_resnet.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
print("wrote parallel/testdata/torch_resnet.safetensors:", len(out), "tensors")
