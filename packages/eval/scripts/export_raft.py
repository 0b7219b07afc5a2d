#!/usr/bin/python3
"""Exports RAFT (torchvision's raft_large, whose C_T_V1 weights are the raft-things weights of
princeton-vl/RAFT that VBench's dynamic degree loads) to ONNX for vidpool's vbench.dynamic_degree:
one input "frames" [N, 2, 3, H, W] (the two frames of each pair, on [-1, 1], H and W multiples of
8 and at least 64), one output "flow" [N, 2, H, W] (the flow of the last of `iters` refinements,
upsampled to the input's size, in pixels), N, H and W free. VBench runs 20 refinements.

Usage: /usr/bin/python3 export_raft.py raft_large_C_T_V1-22a6c225.pth raft.onnx [--iters 20]
       (the weights: https://download.pytorch.org/models/raft_large_C_T_V1-22a6c225.pth)
Needs python3-torch and python3-torchvision 0.14 or later (python3-onnx with --check). Opset 16
(grid_sample).
"""

import argparse
import sys

import torch
from torchvision.models.optical_flow import raft as tv_raft


def _corr_volume(self, fmap1, fmap2):
    """torchvision's CorrBlock._compute_corr_volume with the scale as a float: its
    `torch.sqrt(torch.tensor(channels))` is a square root of an int64 tensor, which ONNX refuses."""
    batch, channels, h, w = fmap1.shape
    corr = torch.matmul(fmap1.view(batch, channels, h * w).transpose(1, 2), fmap2.view(batch, channels, h * w))
    return corr.view(batch, h, w, 1, h, w) / (float(channels) ** 0.5)


tv_raft.CorrBlock._compute_corr_volume = _corr_volume


class FlowOfPairs(torch.nn.Module):
    """A torchvision RAFT with its call fixed: pairs [N, 2, 3, H, W] in, the last flow out."""

    def __init__(self, raft, iters=20):
        super().__init__()
        self.raft = raft
        self.iters = iters

    def forward(self, frames):
        return self.raft(frames[:, 0], frames[:, 1], num_flow_updates=self.iters)[-1]


def export(raft, target, iters=20, height=128, width=128, opset=16):
    model = FlowOfPairs(raft.eval(), iters).eval()
    example = torch.zeros(1, 2, 3, height, width)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (example,),
            target,
            input_names=["frames"],
            output_names=["flow"],
            dynamic_axes={"frames": {0: "N", 3: "H", 4: "W"}, "flow": {0: "N", 2: "H", 3: "W"}},
            opset_version=opset,
        )
    return model


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", help="raft_large weights (raft_large_C_T_V1-22a6c225.pth)")
    parser.add_argument("target", help="the ONNX file to write")
    parser.add_argument("--iters", type=int, default=20, help="flow refinements (VBench: 20)")
    parser.add_argument("--small", action="store_true", help="the weights are raft_small's")
    parser.add_argument("--check", action="store_true", help="check the ONNX graph after writing it")
    args = parser.parse_args(argv)
    raft = tv_raft.raft_small(weights=None) if args.small else tv_raft.raft_large(weights=None)
    raft.load_state_dict(torch.load(args.weights, map_location="cpu"))
    export(raft, args.target, iters=args.iters)
    if args.check:
        import onnx

        onnx.checker.check_model(onnx.load(args.target))
    print(f"wrote {args.target}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
