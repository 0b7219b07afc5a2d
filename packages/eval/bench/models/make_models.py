#!/usr/bin/python3
"""Writes the bench's models to OUT: dino-vitb16.onnx, s3d.onnx and clip-b32-image.onnx (inputs and
outputs as vidpool's dino, i3d and clip_b32_image models), and their weights for PyTorch (vit.pt,
s3d.pt, clip-b32.pt); the ones already there are kept.
Usage: /usr/bin/python3 make_models.py OUT"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import build, build_clip  # noqa: E402


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    if not os.path.exists(os.path.join(out, "clip-b32-image.onnx")):
        clip = build_clip()
        torch.save(clip.state_dict(), os.path.join(out, "clip-b32.pt"))
        torch.onnx.export(clip, (torch.zeros(2, 3, 224, 224),), os.path.join(out, "clip-b32-image.onnx"),
                          input_names=["pixel_values"], output_names=["image_embeds"],
                          dynamic_axes={"pixel_values": {0: "N"}, "image_embeds": {0: "N"}}, opset_version=14)
    if os.path.exists(os.path.join(out, "s3d.onnx")) and os.path.exists(os.path.join(out, "dino-vitb16.onnx")):
        print("ok")
        return
    vit, s3d = build()
    torch.save(vit.state_dict(), os.path.join(out, "vit.pt"))
    torch.save(s3d.state_dict(), os.path.join(out, "s3d.pt"))
    # Exported with gradients on: in no_grad mode nn.MultiheadAttention takes a fused path the
    # exporter does not know.
    if True:
        torch.onnx.export(vit, (torch.zeros(2, 3, 224, 298),), os.path.join(out, "dino-vitb16.onnx"),
                          input_names=["pixel_values"], output_names=["features"],
                          dynamic_axes={"pixel_values": {0: "N"}, "features": {0: "N"}}, opset_version=14)
        torch.onnx.export(s3d, (torch.zeros(1, 3, 16, 224, 224),), os.path.join(out, "s3d.onnx"),
                          input_names=["video"], output_names=["features"],
                          dynamic_axes={"video": {0: "N", 2: "T"}, "features": {0: "N"}}, opset_version=14)
    print("ok")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
