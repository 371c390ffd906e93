#!/usr/bin/python3
"""Writes torch_cnn.safetensors: a CNN with batch norm as PyTorch 1.13
computes it, for parallel's TestMatchesPyTorch.

    /usr/bin/python3 parallel/testdata/torch_cnn.py   (from the repository root)

The spec 1x6x6-conv(3,3,pad=1)-bn:relu-maxpool(2)-conv(4,2):tanh-avgpool(2)-flatten-5:relu-bn-3:softmax
is built as the nn.Sequential below, in float64, with PyTorch's default
initialisation. The file holds, under ptrain's names:
  init.<tensor>   the initial weights and running statistics (what -init reads)
  x0, y0, x1, y1  two batches (8 and 5 rows; y one-hot)
  sgd.<tensor>    every tensor after two steps of SGD (lr 0.1) on x0 then x1
  adam.<tensor>   the same after two steps of Adam (lr 0.01, PyTorch's defaults otherwise)
The loss is nn.CrossEntropyLoss on the logits (ptrain fuses it with the
softmax output). safetensors is written by hand: an 8-byte header length,
the JSON header, the raw little-endian data.
"""
import json
import struct

import torch
from torch import nn

torch.manual_seed(1)
torch.set_default_dtype(torch.float64)


def net():
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(3, 4, 2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(4, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 3))


# PyTorch's module index -> ptrain's layer name.
NAMES = {"0": "conv.0", "1": "bn.0", "4": "conv.1", "8": "dense.0", "10": "bn.1", "11": "dense.1"}


def tensors(m, prefix):
    out = {}
    for k, v in m.state_dict().items():
        i, t = k.split(".", 1)
        out[prefix + NAMES[i] + "." + t] = v.detach().clone()
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
with open("parallel/testdata/torch_cnn.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
print("wrote parallel/testdata/torch_cnn.safetensors:", len(out), "tensors")
