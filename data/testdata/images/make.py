#!/usr/bin/python3
# Writes the image fixtures of data's tests with PIL 9.4 and torchvision
# 0.14 (Debian bookworm's python3-pil and python3-torchvision):
#
#   *.png, *.jpg   small images in every PNG colour type the loader reads,
#                  and JPEG (gray and colour)
#   pixels.json    for each (NAME:MODE for a forced conversion): the values torchvision's ToTensor gives after
#                  PIL's convert (L for gray, RGB otherwise), C×H×W; for the
#                  16-bit gray PNG the 16-bit values / 65535 (ToTensor would
#                  return the raw integers)
#   augment.json   inputs and outputs of torchvision's functional pad+crop,
#                  hflip, vflip and erase at given offsets, flips and boxes
#
# Run from this directory: /usr/bin/python3 make.py
import json

import numpy as np
import torch
import torchvision.transforms.functional as F
from PIL import Image

rng = np.random.default_rng(19)
out = {}


def record(name, img, mode):
    t = F.to_tensor(img.convert(mode))
    out[name] = {"shape": list(t.shape), "values": [float(v) for v in t.flatten().tolist()]}


h, w = 5, 7
g8 = rng.integers(0, 256, (h, w), dtype=np.uint8)
g8[0, 0], g8[0, 1] = 0, 255
Image.fromarray(g8, "L").save("gray8.png")
record("gray8.png", Image.open("gray8.png"), "L")
record("gray8.png:RGB", Image.open("gray8.png"), "RGB")  # -channels 3

g16 = rng.integers(0, 65536, (h, w), dtype=np.uint16)
g16[0, 0], g16[0, 1] = 0, 65535
Image.fromarray(g16, "I;16").save("gray16.png")
im = Image.open("gray16.png")
a = np.array(im).astype(np.float64) / 65535
out["gray16.png"] = {"shape": [1, h, w], "values": a.flatten().tolist()}

rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
Image.fromarray(rgb, "RGB").save("rgb.png")
record("rgb.png", Image.open("rgb.png"), "RGB")
record("rgb.png:L", Image.open("rgb.png"), "L")  # -channels 1: PIL's luma

rgba = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
rgba[0, 0, 3] = 0  # fully transparent: its colour must survive (not premultiplied)
rgba[0, 1, 3] = 1
Image.fromarray(rgba, "RGBA").save("rgba.png")
record("rgba.png", Image.open("rgba.png"), "RGB")

pal = Image.fromarray(rng.integers(0, 6, (h, w), dtype=np.uint8), "P")
pal.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 17, 34, 51, 200, 100, 50])
pal.save("paletted.png")
record("paletted.png", Image.open("paletted.png"), "RGB")

# JPEG: smooth content, so that decoders differing in their IDCT and
# chroma upsampling stay within a few levels of each other.
yy, xx = np.mgrid[0:16, 0:16]
gj = (xx * 8 + yy * 4).astype(np.uint8)
Image.fromarray(gj, "L").save("gray.jpg", quality=95)
record("gray.jpg", Image.open("gray.jpg"), "L")
cj = np.stack([xx * 12, yy * 12, (xx + yy) * 6], axis=-1).astype(np.uint8)
# 4:4:4 (no chroma subsampling): with 4:2:0, Go's chroma upsampling (nearest)
# and libjpeg's (fancy, interpolating) differ by up to 9 levels here.
Image.fromarray(cj, "RGB").save("rgb.jpg", quality=95, subsampling=0)
record("rgb.jpg", Image.open("rgb.jpg"), "RGB")

with open("pixels.json", "w") as f:
    json.dump(out, f, indent=0)

# Augmentation: a C×H×W image of distinct values (raw, as uint8), and what
# RandomCrop(padding=P) at offset (dy, dx) and the flips make of it.
cases = []
for c, h, w, p in [(1, 6, 6, 2), (3, 5, 7, 3), (2, 4, 9, 1)]:
    x = torch.from_numpy(rng.integers(1, 256, (c, h, w), dtype=np.uint8))
    for dy, dx, flip, vflip in [(p, p, False, False), (0, 0, False, False), (2 * p, 2 * p, False, False),
                                (0, 2 * p, True, False), (p - 1, p + 1, False, True), (2 * p, 1, True, True)]:
        y = F.crop(F.pad(x, [p, p, p, p], fill=0), dy, dx, h, w)
        if flip:
            y = F.hflip(y)
        if vflip:
            y = F.vflip(y)
        cases.append({"shape": [c, h, w], "crop": p, "dy": dy, "dx": dx, "flip": flip, "vflip": vflip,
                      "in": x.flatten().tolist(), "out": y.flatten().tolist()})
        # RandomErasing's op, last, on the float tensor, at a fixed box.
        ei, ej, eh, ew = 1, dx % (w - 2), h - 2, 2
        z = F.erase(y.float(), ei, ej, eh, ew, torch.tensor(0.0))
        cases.append({"shape": [c, h, w], "crop": p, "dy": dy, "dx": dx, "flip": flip, "vflip": vflip,
                      "erase": [ei, ej, eh, ew], "in": x.flatten().tolist(), "out": [int(v) for v in z.flatten().tolist()]})
with open("augment.json", "w") as f:
    json.dump(cases, f)
