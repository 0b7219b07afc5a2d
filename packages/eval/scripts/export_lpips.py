#!/usr/bin/python3
"""Exports LPIPS (AlexNet, version 0.1: the network FastVideo's common.lpips runs through the lpips
package) to ONNX for vidpool's common.lpips: the whole network in one file, one input "pair"
[N, 2, 3, H, W] (image 0 and image 1 of each pair, on [-1, 1]), one output "distance" [N], N, H
and W free.

The weights are two files users already have: torchvision's ImageNet AlexNet
(alexnet-owt-7be5be79.pth, download.pytorch.org/models/) for the trunk, and LPIPS's linear heads
(lpips/weights/v0.1/alex.pth in github.com/richzhang/PerceptualSimilarity, also inside the lpips
pip package). A state dict of lpips.LPIPS(net="alex") itself (keys net.slice1.0.weight, ...,
lin0.model.1.weight) is read too, given as --lpips.

Usage: /usr/bin/python3 export_lpips.py --alexnet alexnet-owt-7be5be79.pth --lin alex.pth lpips.onnx
       /usr/bin/python3 export_lpips.py --lpips lpips_alex_state.pth lpips.onnx
Needs python3-torch (and python3-onnx with --check).
"""

import argparse
import sys

import torch
import torch.nn.functional as F

ALEX_CHANNELS = (64, 192, 384, 256, 256)
# torchvision's alexnet.features: the index of each convolution, and of the ReLU LPIPS taps after it.
CONV_INDEX = (0, 3, 6, 8, 10)
TAPS = (1, 4, 7, 9, 11)


class LpipsAlex(torch.nn.Module):
    """LPIPS v0.1 over an AlexNet trunk of the given channels (AlexNet's own by default)."""

    def __init__(self, channels=ALEX_CHANNELS):
        super().__init__()
        c1, c2, c3, c4, c5 = channels
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, c1, kernel_size=11, stride=4, padding=2),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(kernel_size=3, stride=2),
            torch.nn.Conv2d(c1, c2, kernel_size=5, padding=2),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(kernel_size=3, stride=2),
            torch.nn.Conv2d(c2, c3, kernel_size=3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(c3, c4, kernel_size=3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(c4, c5, kernel_size=3, padding=1),
            torch.nn.ReLU(),
        )
        self.lins = torch.nn.ModuleList([torch.nn.Conv2d(c, 1, kernel_size=1, bias=False) for c in channels])
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))

    def taps(self, x):
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in TAPS:
                out.append(x)
        return out

    def distance(self, a, b):
        fa = self.taps((a - self.shift) / self.scale)
        fb = self.taps((b - self.shift) / self.scale)
        total = 0
        for lin, x, y in zip(self.lins, fa, fb):
            x = x / (torch.sqrt(torch.sum(x * x, dim=1, keepdim=True)) + 1e-10)
            y = y / (torch.sqrt(torch.sum(y * y, dim=1, keepdim=True)) + 1e-10)
            total = total + lin((x - y) ** 2).mean(dim=(2, 3))
        return total.reshape(-1)

    def forward(self, pair):
        return self.distance(pair[:, 0], pair[:, 1])


def load_split(model, alexnet_path, lin_path):
    """The trunk from torchvision's AlexNet weights, the heads from LPIPS's alex.pth."""
    trunk = torch.load(alexnet_path, map_location="cpu")
    heads = torch.load(lin_path, map_location="cpu")
    state = {}
    for i in CONV_INDEX:
        state[f"features.{i}.weight"] = trunk[f"features.{i}.weight"]
        state[f"features.{i}.bias"] = trunk[f"features.{i}.bias"]
    for k in range(5):
        key = next(n for n in (f"lin{k}.model.1.weight", f"lin{k}.model.0.weight") if n in heads)
        state[f"lins.{k}.weight"] = heads[key]
    missing = model.load_state_dict(state, strict=False)
    if [m for m in missing.missing_keys if m not in ("shift", "scale")]:
        raise ValueError(f"weights missing: {missing.missing_keys}")
    return model


def load_lpips_state(model, path):
    """A state dict of lpips.LPIPS(net="alex"): net.sliceK.N.* and linK.model.M.weight."""
    src = torch.load(path, map_location="cpu")
    state = {}
    # lpips keeps torchvision's indices inside its slices (slice1 = features[0:2], ...).
    for k, i in zip(range(1, 6), CONV_INDEX):
        state[f"features.{i}.weight"] = src[f"net.slice{k}.{i}.weight"]
        state[f"features.{i}.bias"] = src[f"net.slice{k}.{i}.bias"]
    for k in range(5):
        key = next(n for n in (f"lin{k}.model.1.weight", f"lin{k}.model.0.weight") if n in src)
        state[f"lins.{k}.weight"] = src[key]
    model.load_state_dict(state, strict=False)
    return model


def export(model, target, height=64, width=64, opset=13):
    model = model.eval()
    example = torch.zeros(1, 2, 3, height, width)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (example,),
            target,
            input_names=["pair"],
            output_names=["distance"],
            dynamic_axes={"pair": {0: "N", 3: "H", 4: "W"}, "distance": {0: "N"}},
            opset_version=opset,
        )
    return model


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", help="the ONNX file to write")
    parser.add_argument("--alexnet", help="torchvision's AlexNet weights (alexnet-owt-7be5be79.pth)")
    parser.add_argument("--lin", help="LPIPS's linear heads (weights/v0.1/alex.pth)")
    parser.add_argument("--lpips", help="a state dict of lpips.LPIPS(net='alex'), instead of --alexnet and --lin")
    parser.add_argument("--opset", type=int, default=13)
    parser.add_argument("--check", action="store_true", help="check the ONNX graph after writing it")
    args = parser.parse_args(argv)
    model = LpipsAlex()
    if args.lpips is not None:
        load_lpips_state(model, args.lpips)
    elif args.alexnet is not None and args.lin is not None:
        load_split(model, args.alexnet, args.lin)
    else:
        parser.error("give --alexnet and --lin, or --lpips")
    export(model, args.target, opset=args.opset)
    if args.check:
        import onnx

        onnx.checker.check_model(onnx.load(args.target))
    print(f"wrote {args.target}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
