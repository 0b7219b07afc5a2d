#!/usr/bin/python3
"""Checks export_raft.py and export_lpips.py at the real architectures' size (random weights: the
graph does not depend on them): torchvision's raft_large with 20 refinements and LPIPS over
AlexNet, exported, then run by torch on inputs of another size than the traced one. Writes the
ONNX files and torch's outputs to DIR; check_flow_exports.mjs runs the files in onnxruntime-node
and compares.

Usage: /usr/bin/python3 check_flow_exports.py DIR && node check_flow_exports.mjs DIR
"""

import json
import os
import sys
import time

import torch
from torchvision.models.optical_flow import raft_large

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_lpips  # noqa: E402
import export_raft  # noqa: E402


def probe(shape, k):
    """sin(k * linspace(-1, 1, size)) in the shape: what the Node side rebuilds."""
    size = 1
    for d in shape:
        size *= d
    return torch.linspace(-1, 1, size).mul(k).sin().reshape(*shape)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    start = time.time()
    raft = export_raft.export(raft_large(weights=None), os.path.join(out, "raft_large.onnx"), iters=20, height=128, width=128)
    print(f"raft_large exported (20 refinements, traced at 128x128) in {time.time() - start:.1f} s")
    flow_shape = [1, 2, 3, 240, 320]
    with torch.no_grad():
        flow = raft(probe(flow_shape, 5))
    lpips = export_lpips.export(export_lpips.LpipsAlex(), os.path.join(out, "lpips_alex.onnx"), height=64, width=64)
    pair_shape = [2, 2, 3, 240, 320]
    with torch.no_grad():
        distance = lpips(probe(pair_shape, 3))
    with open(os.path.join(out, "torch.json"), "w") as f:
        json.dump({"flowShape": flow_shape, "flow": flow.reshape(-1)[::97].tolist(), "every": 97,
                   "pairShape": pair_shape, "distance": distance.tolist()}, f)
    print(f"torch: flow {list(flow.shape)} (largest {flow.abs().max().item():.4f}), LPIPS {distance.tolist()}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
