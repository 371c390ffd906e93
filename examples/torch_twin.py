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

A checkpoint of a table (ptrain.preprocess) gets the same preprocessing as
`ptrain predict`, from the stored plain data: columns matched by header name
(the label and unknown columns ignored) or by position, dropped columns
skipped, missing cells (the stored -na cells) filled with the stored value
and marked by indicator features, text categories one-hot encoded (an
unseen one all zeros), and regression outputs mapped back to the target's
units. What is not the same: a category of numeric codes is looked up by
the number's shortest text as Go writes it (go_text below), which this
script rebuilds for finite numbers only; rows are read with Python's csv
module and the first row must be the header when the model was trained
with one; errors are Python exceptions, not ptrain's messages.
Needs only torch (PyTorch 1.13 was used) and the standard library.
Other scripts import it: load(CKPT) returns the loaded twin
(bench/compare/torch_recipe.py trains it).
"""
import csv
import decimal
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


def go_text(v):
    """A number's text as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it:
    the shortest digits, in exponent form below 1e-4 and from 1e6 up."""
    if v == 0:
        return "0"
    t = decimal.Decimal(repr(float(v))).as_tuple()  # repr: the shortest digits
    all_digits = "".join(map(str, t.digits))
    digits = all_digits.lstrip("0")
    exp = t.exponent + len(all_digits) - 1 - (len(all_digits) - len(digits))  # of the first digit
    digits = digits.rstrip("0")
    sign = "-" if t.sign else ""
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return sign + "0." + "0" * (-exp - 1) + digits
    if len(digits) <= exp + 1:
        return sign + digits + "0" * (exp + 1 - len(digits))
    return sign + digits[: exp + 1] + "." + digits[exp + 1 :]


def preprocess(prep, path):
    """The feature rows of the CSV at path, as data.Preprocess.Apply makes them."""
    na = {s.strip() for s in prep["na"] or []}
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r != [] and r != [""]]
    cols = prep["columns"]
    if prep["by_name"]:
        header = [h.strip() for h in rows[0]]
        rows = rows[1:]
        src = [header.index(c["name"]) if not c.get("drop") else -1 for c in cols]
    else:
        src = list(range(len(cols)))
    out = []
    for r in rows:
        feats = []
        for c, j in zip(cols, src):
            if c.get("drop"):
                continue
            cell = r[j].strip()
            missing = cell in na
            if c.get("categorical"):
                onehot = [0.0] * len(c["categories"])
                if missing:
                    cell = c.get("fill_category", "")
                else:
                    try:
                        cell = go_text(float(cell))
                    except ValueError:
                        pass
                if cell in c["categories"]:
                    onehot[c["categories"].index(cell)] = 1.0
                feats += onehot
            elif missing:
                if not c.get("impute"):
                    raise ValueError(f"column {c.get('name')!r}: a missing cell, and the model was trained without imputation")
                feats.append(c["fill"])
            else:
                feats.append(float(cell))
            if c.get("indicator"):
                feats.append(1.0 if missing else 0.0)
        out.append(feats)
    return out


def load(path, log=None):
    """The twin of the checkpoint at path with every tensor loaded, in the
    checkpoint's element type and in eval mode, and the checkpoint's
    tensors and metadata. log, if given, is called with each line
    "# MODULE.KEY <- PTRAIN.NAME"."""
    tensors, meta = read_safetensors(path)
    net, names = twin(meta["ptrain.arch"])
    dtype = tensors[next(n for n in tensors if n.endswith(".weight"))].dtype
    net = net.to(dtype)
    state = {}
    for key in net.state_dict():
        module, rest = key.rsplit(".", 1)
        state[key] = tensors[names[module] + "." + rest]
        if log:
            log(f"# {key:28s} <- {names[module]}.{rest}")
    net.load_state_dict(state)
    net.eval()
    return net, tensors, meta


def main():
    net, tensors, meta = load(sys.argv[1], lambda line: print(line, file=sys.stderr))
    dtype = next(net.parameters()).dtype
    if len(sys.argv) < 3:
        print(net)
        return
    prep = json.loads(meta["ptrain.preprocess"]) if "ptrain.preprocess" in meta else None
    rows = []
    if prep:
        rows = preprocess(prep, sys.argv[2])
    else:
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
    scale = (prep or {}).get("target_scale")
    with torch.no_grad():
        for row in net(x).tolist():
            if scale:  # standardised regression targets, back in the data's units
                row = [(v - t) / s for v, s, t in zip(row, scale, prep["target_shift"])]
            print(",".join(f"{v:.6g}" for v in row))


if __name__ == "__main__":
    main()
