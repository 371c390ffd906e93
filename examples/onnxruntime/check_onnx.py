#!/usr/bin/python3
"""Check ONNX models with onnx's own checker, full_check (shape inference).

    /usr/bin/python3 examples/onnxruntime/check_onnx.py MODEL.onnx ...

prints "ok PATH (ir N, opset M)" per model and exits 1 at the first that
fails. Needs python3-onnx (Debian's is onnx 1.12).
"""
import sys

import onnx

for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    opsets = ",".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in m.opset_import)
    print(f"ok {path} (ir {m.ir_version}, opset {opsets})")
