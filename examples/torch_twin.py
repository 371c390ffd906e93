#!/usr/bin/python3
"""Load a ptrain checkpoint into its PyTorch twin and predict.

    /usr/bin/python3 examples/torch_twin.py CKPT [ROWS.csv]

builds the torch.nn.Sequential that matches the checkpoint's spec
(ptrain.arch; a residual block becomes a Res module), loads every tensor into it under ptrain's names
(dense.0.weight, conv.1.bias, bn.0.running_var, ...), and prints the
module's state_dict names beside ptrain's. With a CSV of feature rows (no
label; images as C*H*W values in C, H, W order), it applies the
checkpoint's feature transform (x*data.scale + data.shift) and prints one
row of outputs per input, as `ptrain predict` does after its class column
(a first line that is not numbers is taken for a header and skipped).
Needs only torch (PyTorch 1.13 was used) and the standard library.
"""
import json
import re
import struct
import sys

import torch
from torch import nn

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        lo, hi = t["data_offsets"]
        buf = bytearray(data[lo:hi])
        tensors[name] = torch.frombuffer(buf, dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).clone()
    return tensors, meta


def activation(name):
    m = re.fullmatch(r"leakyrelu(?:\((.*)\))?", name)
    if m:
        return nn.LeakyReLU(float(m.group(1) or 0.01))
    return {"relu": nn.ReLU(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "softmax": nn.Softmax(dim=1)}[name]


def split_top(s, sep):
    """s split at each sep outside parentheses (a block's parts stay whole)."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == sep and depth <= 0:
            parts.append(s[start:i])
            start = i + 1
    return parts + [s[start:]]


class Res(nn.Module):
    """ptrain's res(BODY|SHORTCUT): post(body(x) + shortcut(x)), the
    shortcut the identity when the block has none, post the block's
    activation and dropout (ResNet v1's relu after the sum)."""

    def __init__(self, body, shortcut, post):
        super().__init__()
        self.body = body
        self.shortcut = shortcut
        self.post = post

    def forward(self, x):
        return self.post(self.body(x) + (x if self.shortcut is None else self.shortcut(x)))


def post(fields):
    """The modules of a part's :ACTIVATION and :dropout=P fields."""
    out = []
    for f in fields:
        if f.startswith("dropout="):
            out.append(nn.Dropout(float(f[len("dropout="):])))
        elif f not in ("identity", "linear", "none"):
            out.append(activation(f))
    return out


def stack(parts, shape):
    """The nn.Sequential of '-'-joined parts reading samples of shape, and
    its output shape."""
    layers = []
    for part in parts:
        head, *fields = split_top(part, ":")
        if head.startswith("res("):
            body, *short = split_top(head[len("res("):-1], "|")
            net, out = stack(split_top(body, "-"), shape)
            sc = stack(split_top(short[0], "-"), shape)[0] if short else None
            layers.append(Res(net, sc, nn.Sequential(*post(fields))))
            shape = out
            continue
        kind = re.match(r"[a-z]*", head).group(0) or "dense"
        args = re.findall(r"(\w+=)?(\d+)", head)
        pos = [int(v) for k, v in args if not k]
        opt = {k[:-1]: int(v) for k, v in args if k}
        if kind == "dense":
            layers.append(nn.Linear(shape[0], int(head)))
            shape = [int(head)]
        elif kind == "conv":
            out, k = pos
            s, p = opt.get("stride", 1), opt.get("pad", 0)
            layers.append(nn.Conv2d(shape[0], out, k, stride=s, padding=p))
            shape = [out, (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1]
        elif kind in ("maxpool", "avgpool"):
            k, s = pos[0], opt.get("stride", pos[0])
            layers.append((nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d)(k, stride=s))
            shape = [shape[0], (shape[1] - k) // s + 1, (shape[2] - k) // s + 1]
        elif kind == "bn":
            layers.append((nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[0]))
        elif kind == "flatten":
            layers.append(nn.Flatten())
            shape = [shape[0] * shape[1] * shape[2]]
        elif kind == "gap":
            layers.extend([nn.AdaptiveAvgPool2d(1), nn.Flatten()])
            shape = [shape[0]]
        layers.extend(post(fields))
    return nn.Sequential(*layers), shape


KINDS = {nn.Linear: "dense", nn.Conv2d: "conv", nn.BatchNorm1d: "bn", nn.BatchNorm2d: "bn"}


def twin(arch):
    """The torch module of a ptrain spec, and ptrain's name of each module
    with tensors, by its name in the module. ptrain counts each kind in
    spec order, a block's body before its shortcut: the order in which
    named_modules visits them."""
    parts = split_top(arch, "-")
    net, _ = stack(parts[1:], [int(v) for v in parts[0].split("x")])
    names, count = {}, {}
    for name, mod in net.named_modules():
        kind = KINDS.get(type(mod))
        if kind:
            names[name] = f"{kind}.{count.get(kind, 0)}"
            count[kind] = count.get(kind, 0) + 1
    return net, names


def main():
    tensors, meta = read_safetensors(sys.argv[1])
    net, names = twin(meta["ptrain.arch"])
    dtype = tensors[next(n for n in tensors if n.endswith(".weight"))].dtype
    net = net.to(dtype)
    state = {}
    for key in net.state_dict():
        module, rest = key.rsplit(".", 1)
        state[key] = tensors[names[module] + "." + rest]
        print(f"# {key:28s} <- {names[module]}.{rest}", file=sys.stderr)
    net.load_state_dict(state)
    net.eval()
    if len(sys.argv) < 3:
        print(net)
        return
    rows = []
    for i, line in enumerate(open(sys.argv[2])):
        if not line.strip():
            continue
        try:
            rows.append([float(v) for v in line.split(",")])
        except ValueError:
            if i == 0:  # a header line, as ptrain predict expects by default
                continue
            raise
    x = torch.tensor(rows, dtype=torch.float64)
    if "data.scale" in tensors:  # either may be absent: scale 1, shift 0
        x = x * tensors["data.scale"]
    if "data.shift" in tensors:
        x = x + tensors["data.shift"]
    spec_in = [int(v) for v in meta["ptrain.arch"].split("-")[0].split("x")]
    x = x.to(dtype).reshape([len(rows)] + spec_in)
    with torch.no_grad():
        for row in net(x).tolist():
            print(",".join(f"{v:.6g}" for v in row))


if __name__ == "__main__":
    main()
