#!/usr/bin/python3
"""Exports DINO ViT-B/16 (facebookresearch/dino, dino_vitb16) to ONNX for vidpool's
vbench.subject_consistency: one input "pixel_values" [N, 3, H, W] (frames resized so that the
shorter side is 224, ImageNet-normalised: vidpool does this itself), one output "features"
[N, 768] (the class token, as the model's forward gives it), N free.

DINO interpolates its patch position embeddings to the frame's patch grid on every call; the
export fixes that grid, so a file serves one frame size. Give the size of your videos' frames
(--video-size 832x480 exports for 388x224 input) or the model's input size (--input-size).

Usage:
  /usr/bin/python3 export_dino.py dino.onnx --video-size 832x480
      (torch.hub fetches the code from GitHub and the weights from dl.fbaipublicfiles.com)
  /usr/bin/python3 export_dino.py dino.onnx --video-size 832x480 --repo ./dino --weights dino_vitbase16_pretrain.pth
      (a clone of github.com/facebookresearch/dino and its downloaded checkpoint)
Needs python3-torch (and python3-onnx with --check).
"""

import argparse
import sys

import torch


def input_size(width, height, short=224):
    """The frame's size after vidpool's resize (torchvision's Resize(224)): (height, width)."""
    if width <= height:
        return (short * height) // width, short
    return short, (short * width) // height


def load(repo=None, weights=None):
    """dino_vitb16 from torch.hub, or from a local clone of its repository and a checkpoint file."""
    if repo is None:
        return torch.hub.load("facebookresearch/dino:main", "dino_vitb16")
    model = torch.hub.load(repo, "dino_vitb16", source="local", pretrained=False)
    state = torch.load(weights, map_location="cpu")
    if isinstance(state, dict) and "teacher" in state:
        state = {k.removeprefix("backbone."): v for k, v in state["teacher"].items() if k.startswith("backbone.")}
    model.load_state_dict(state)
    return model


def export(model, target, height, width, opset=13):
    """Writes `model` (called as model(pixel_values) -> [N, 768]) for frames of height x width."""
    model = model.eval()
    example = torch.zeros(1, 3, height, width)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (example,),
            target,
            input_names=["pixel_values"],
            output_names=["features"],
            dynamic_axes={"pixel_values": {0: "N"}, "features": {0: "N"}},
            opset_version=opset,
        )


def size_of(text):
    w, _, h = text.lower().partition("x")
    if not (w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}")
    return int(w), int(h)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", help="the ONNX file to write")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--video-size", type=size_of, help="your videos' frame size, WIDTHxHEIGHT")
    group.add_argument("--input-size", type=size_of, help="the model's input size, WIDTHxHEIGHT (after the resize)")
    parser.add_argument("--repo", help="a local clone of github.com/facebookresearch/dino (else torch.hub fetches it)")
    parser.add_argument("--weights", help="with --repo: the checkpoint (dino_vitbase16_pretrain.pth)")
    parser.add_argument("--opset", type=int, default=13)
    parser.add_argument("--check", action="store_true", help="check the ONNX graph after writing it")
    args = parser.parse_args(argv)
    if (args.repo is None) != (args.weights is None):
        parser.error("--repo and --weights go together")
    if args.video_size is not None:
        height, width = input_size(*args.video_size)
    else:
        width, height = args.input_size
    if height % 16 or width % 16:
        print(f"note: {width}x{height} is not a multiple of 16; DINO's patches cover {width // 16 * 16}x{height // 16 * 16}")
    export(load(args.repo, args.weights), args.target, height, width, args.opset)
    if args.check:
        import onnx

        onnx.checker.check_model(onnx.load(args.target))
    print(f"wrote {args.target} for {width}x{height} input")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
