#!/usr/bin/python3
"""Tests export_dino.py on a small module with DINO's call signature (forward(pixel_values) ->
[N, 768] class token, patch position embeddings interpolated to the frame's grid on each call),
and writes what vidpool's tests check without Python: the exported ONNX file, the module's own
output on fixed frames, and the input sizes the script computes for some video sizes.
Run: /usr/bin/python3 packages/eval/scripts/test_export_dino.py
"""

import json
import math
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_dino import export, input_size, main  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "models")


class SmallDino(torch.nn.Module):
    """A ViT of DINO's shape, made small: 16x16 patches, a class token, position embeddings of a
    14x14 grid resized (bicubic) to the frame's grid, one attention block, the class token out."""

    def __init__(self, dim=24):
        super().__init__()
        self.patch = torch.nn.Conv2d(3, dim, kernel_size=16, stride=16)
        self.cls = torch.nn.Parameter(torch.randn(1, 1, dim))
        self.pos = torch.nn.Parameter(torch.randn(1, 1 + 14 * 14, dim))
        self.norm = torch.nn.LayerNorm(dim)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(dim, 48), torch.nn.GELU(), torch.nn.Linear(48, dim))
        self.head = torch.nn.Linear(dim, 768)

    def forward(self, x):
        n = x.shape[0]
        tokens = self.patch(x)
        gh, gw = tokens.shape[2], tokens.shape[3]
        grid = self.pos[:, 1:].reshape(1, 14, 14, -1).permute(0, 3, 1, 2)
        grid = torch.nn.functional.interpolate(grid, size=(gh, gw), mode="bicubic", align_corners=False)
        pos = torch.cat([self.pos[:, :1], grid.flatten(2).transpose(1, 2)], dim=1)
        tokens = torch.cat([self.cls.expand(n, -1, -1), tokens.flatten(2).transpose(1, 2)], dim=1) + pos
        q, k, v = self.qkv(self.norm(tokens)).chunk(3, dim=-1)
        attention = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]), dim=-1)
        tokens = tokens + attention @ v
        tokens = tokens + self.mlp(self.norm(tokens))
        return self.head(tokens[:, 0])


def run():
    torch.manual_seed(16)
    model = SmallDino().eval()
    height, width = input_size(320, 240)
    target = os.path.join(OUT, "dino-exported.onnx")
    export(model, target, height, width)
    frames = []
    for n in [1, 3]:
        size = n * 3 * height * width
        pixels = torch.linspace(-1, 1, size).reshape(n, 3, height, width).sin() * 2
        with torch.no_grad():
            expected = model(pixels)
        assert expected.shape == (n, 768), expected.shape
        frames.append({"shape": [n, 3, height, width], "features": expected[:, :16].tolist()})
    # The command line: --video-size and --input-size give the same file's size.
    with tempfile.TemporaryDirectory() as tmp:
        for flag, value in [("--video-size", "320x240"), ("--input-size", f"{width}x{height}")]:
            try:
                main([os.path.join(tmp, "x.onnx"), flag, value, "--repo", tmp])
            except SystemExit as e:
                assert e.code == 2, e.code  # --repo without --weights is refused before loading
    sizes = [{"video": [w, h], "input": list(input_size(w, h))} for w, h in [(832, 480), (320, 240), (240, 320), (224, 224), (1920, 1080)]]
    with open(os.path.join(OUT, "dino-exported.json"), "w") as f:
        json.dump({"input": "2 * sin(linspace(-1, 1, N*3*H*W))", "frames": frames, "sizes": sizes}, f, indent=1)
    print("ok", [f["shape"] for f in frames], math.prod(frames[0]["shape"]))


if __name__ == "__main__":
    sys.exit(run())
