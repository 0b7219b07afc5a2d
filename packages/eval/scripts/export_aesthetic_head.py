#!/usr/bin/python3
"""Exports LAION's aesthetic predictor head for CLIP ViT-L/14 to ONNX, the way
vbench.aesthetic_quality runs it: `image_embeds` float32 [N, 768] (L2-normalised CLIP ViT-L/14
image features) in, `score` float32 [N, 1] out.

The head is a state dict of one linear layer 768 -> 1 (`weight` [1, 768], `bias` [1]), as
LAION-AI/aesthetic-predictor publishes it: sa_0_4_vit_l_14_linear.pth.

Needs Debian's python3-torch and python3-onnx.
Usage: /usr/bin/python3 export_aesthetic_head.py sa_0_4_vit_l_14_linear.pth aesthetic_head.onnx [--check]
"""

import argparse
import sys

import torch


def load_head(path):
    state = torch.load(path, map_location="cpu")
    if not isinstance(state, dict) or "weight" not in state or "bias" not in state:
        raise SystemExit(f"{path}: expected a state dict with 'weight' [1, 768] and 'bias' [1]")
    if tuple(state["weight"].shape) != (1, 768) or tuple(state["bias"].shape) != (1,):
        raise SystemExit(
            f"{path}: expected 'weight' [1, 768] and 'bias' [1], found {tuple(state['weight'].shape)} and {tuple(state['bias'].shape)}"
        )
    head = torch.nn.Linear(768, 1)
    head.load_state_dict(state)
    return head.float().eval()


def export(head, out):
    torch.onnx.export(
        head,
        torch.zeros(2, 768),
        out,
        input_names=["image_embeds"],
        output_names=["score"],
        dynamic_axes={"image_embeds": {0: "N"}, "score": {0: "N"}},
        opset_version=13,
    )


def check(head, out):
    """The file is valid ONNX, has the signature, and its one Gemm node gives PyTorch's scores."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(out)
    onnx.checker.check_model(model)
    graph = model.graph
    if [i.name for i in graph.input] != ["image_embeds"] or [o.name for o in graph.output] != ["score"]:
        raise SystemExit(f"{out}: expected the input image_embeds and the output score")
    if [n.op_type for n in graph.node] != ["Gemm"]:
        raise SystemExit(f"{out}: expected one Gemm node, found {[n.op_type for n in graph.node]}")
    node = graph.node[0]
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    w, b = weights[node.input[1]], weights[node.input[2]]
    x = torch.nn.functional.normalize(torch.randn(3, 768), dim=-1).numpy()
    got = attrs.get("alpha", 1.0) * (x @ (w.T if attrs.get("transB", 0) else w)) + attrs.get("beta", 1.0) * b
    with torch.no_grad():
        want = head(torch.from_numpy(x)).numpy()
    if abs(got - want).max() > 1e-5:
        raise SystemExit(f"{out}: the ONNX head differs from the PyTorch head by {abs(got - want).max()}")
    print(f"{out}: checked against PyTorch on 3 feature vectors")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights")
    parser.add_argument("out")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    head = load_head(args.weights)
    export(head, args.out)
    if args.check:
        check(head, args.out)


if __name__ == "__main__":
    sys.exit(main())
