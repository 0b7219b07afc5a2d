#!/usr/bin/python3
"""Tests export_i3d.py on a small TorchScript module with I3D's call signature
(forward(x, rescale: bool, resize: bool, return_features: bool), a batch of one squeezed), and
writes what vidpool's tests check without Python: the exported ONNX file, and TorchScript's output
on fixed clips. Run: /usr/bin/python3 packages/eval/scripts/test_export_i3d.py
"""

import json
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_i3d import export  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "models")


class SmallI3D(torch.nn.Module):
    """I3D's call shape with branches on its flags, as a scripted module has."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv3d(3, 8, kernel_size=(3, 16, 16), stride=(2, 16, 16))
        self.head = torch.nn.Linear(8, 400)

    def forward(self, x: torch.Tensor, rescale: bool = True, resize: bool = True, return_features: bool = False) -> torch.Tensor:
        if rescale:
            x = x * 2.0 - 1.0
        if resize:
            x = torch.nn.functional.interpolate(x, size=(x.shape[2], 224, 224), mode="trilinear", align_corners=False)
        h = torch.relu(self.conv(x)).mean(dim=(2, 3, 4))
        out = self.head(h)
        if not return_features:
            out = torch.softmax(out, dim=1)
        return out.squeeze(0)


def main():
    torch.manual_seed(6)
    scripted = torch.jit.script(SmallI3D().eval())
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "small_i3d.pt")
        scripted.save(source)
        target = os.path.join(OUT, "i3d-exported.onnx")
        export(source, target, frames=10)
    clips = []
    for n, t in [(1, 10), (2, 13)]:
        video = torch.linspace(-1, 1, n * 3 * t * 224 * 224).reshape(n, 3, t, 224, 224).sin()
        with torch.no_grad():
            expected = scripted(video, rescale=False, resize=False, return_features=True).reshape(n, -1)
        assert expected.shape == (n, 400), expected.shape
        clips.append({"shape": [n, 3, t, 224, 224], "features": expected[:, :16].tolist()})
    with open(os.path.join(OUT, "i3d-exported.json"), "w") as f:
        json.dump({"input": "sin(linspace(-1, 1, N*3*T*224*224))", "clips": clips}, f, indent=1)
    print("ok", [c["shape"] for c in clips])


if __name__ == "__main__":
    sys.exit(main())
