#!/usr/bin/python3
"""PyTorch's own ONNX export of a ptrain checkpoint's twin.

    /usr/bin/python3 examples/onnxruntime/torch_export.py CKPT OUT.onnx

builds the checkpoint's torch.nn.Sequential with examples/torch_twin.py,
loads its tensors, puts the feature transform (x*data.scale + data.shift)
in front, and writes it with torch.onnx.export (opset 13, input "input" and
output "output" with a symbolic batch dimension, as `ptrain export` names
them). Running both exports in onnxruntime on the same rows cross-checks
the semantics of ptrain's graph against PyTorch's, not ptrain's bytes.
Needs torch (PyTorch 1.13 was used).
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch_twin  # noqa: E402


class Served(nn.Module):
    """The twin with the checkpoint's feature transform in front."""

    def __init__(self, net, scale, shift):
        super().__init__()
        self.net = net
        self.register_buffer("scale", scale)
        self.register_buffer("shift", shift)

    def forward(self, x):
        return self.net(x * self.scale + self.shift)


def main():
    ckpt, out = sys.argv[1], sys.argv[2]
    tensors, meta = torch_twin.read_safetensors(ckpt)
    net, names = torch_twin.twin(meta["ptrain.arch"])
    state = {}
    for key in net.state_dict():
        module, rest = key.rsplit(".", 1)  # 3.body.0.weight: module 3.body.0 of a Res
        state[key] = tensors[names[module] + "." + rest].float()
    net.load_state_dict(state)
    net.eval()
    shape = [int(v) for v in meta["ptrain.arch"].split("-")[0].split("x")]
    width = 1
    for d in shape:
        width *= d
    scale = tensors.get("data.scale", torch.ones(width, dtype=torch.float64)).float().reshape(shape)
    shift = tensors.get("data.shift", torch.zeros(width, dtype=torch.float64)).float().reshape(shape)
    served = Served(net, scale, shift).eval()
    x = torch.zeros([2] + shape)
    torch.onnx.export(served, x, out, opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


if __name__ == "__main__":
    main()
