#!/usr/bin/python3
"""Exports FastVideo's TorchScript I3D (flateon/FVD-I3D-torchscript, i3d_torchscript.pt) to ONNX for
vidpool's common.fvd: one input "video" [N, 3, T, 224, 224] on [-1, 1] (vidpool scales and resizes
the frames itself, as FastVideo does before calling I3D), one output "features" [N, 400], N and T
free. The module is called as FastVideo calls it: rescale=False, resize=False, return_features=True.

Usage: /usr/bin/python3 export_i3d.py i3d_torchscript.pt i3d.onnx [--frames 16] [--check]
Needs python3-torch (and python3-onnx with --check, which compares ONNX Runtime's output to
TorchScript's when onnxruntime is installed for Python, else checks the graph only).
"""

import argparse
import sys

import torch


class FeaturesOfClip(torch.nn.Module):
    """The TorchScript I3D with its call fixed: features of [N, 3, T, 224, 224] clips, always [N, 400]."""

    def __init__(self, i3d):
        super().__init__()
        self.i3d = i3d

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        feats = self.i3d(video, rescale=False, resize=False, return_features=True)
        # The TorchScript module squeezes a batch of one to [400]; keep the batch axis.
        return feats.reshape(video.shape[0], -1)


def export(source, target, frames=16, opset=13):
    i3d = torch.jit.load(source, map_location="cpu").eval()
    # Scripted, so the TorchScript module is called as the graph it is (its branches on the flags included).
    model = torch.jit.script(FeaturesOfClip(i3d).eval())
    example = torch.zeros(1, 3, frames, 224, 224)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (example,),
            target,
            input_names=["video"],
            output_names=["features"],
            dynamic_axes={"video": {0: "N", 2: "T"}, "features": {0: "N"}},
            opset_version=opset,
        )
    return model


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="the TorchScript file (i3d_torchscript.pt)")
    parser.add_argument("target", help="the ONNX file to write")
    parser.add_argument("--frames", type=int, default=16, help="frames of the example clip traced (T stays free)")
    parser.add_argument("--opset", type=int, default=13)
    parser.add_argument("--check", action="store_true", help="check the ONNX graph after writing it")
    args = parser.parse_args(argv)
    export(args.source, args.target, args.frames, args.opset)
    if args.check:
        import onnx

        model = onnx.load(args.target)
        onnx.checker.check_model(model)
        print(onnx.helper.printable_graph(model.graph).splitlines()[0])
    print(f"wrote {args.target}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
