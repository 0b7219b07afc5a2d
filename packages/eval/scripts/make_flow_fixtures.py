#!/usr/bin/python3
"""Makes the test fixtures of common.lpips and vbench.dynamic_degree: small models with the inputs
and outputs of the real ones (random weights), PNG frame folders, and reference scores computed on
FastVideo's code path of each metric (its frame cut, chunks, padding, threshold and count rule)
with the same weights on the same frames. Also runs the export scripts on small modules of the
real architectures and keeps what vidpool's tests check without Python.

Needs Debian's python3-torch, python3-torchvision, python3-onnx, python3-pil.
Run from anywhere: /usr/bin/python3 packages/eval/scripts/make_flow_fixtures.py
Writes packages/eval/test/fixtures/flow/.
"""

import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_lpips  # noqa: E402
import export_raft  # noqa: E402

OUT = os.path.join(HERE, "..", "test", "fixtures", "flow")
FOLDER_FPS = 25.0  # the rate a folder of images decodes at, in vidpool and in ffmpeg's image2

torch.set_num_threads(1)


# --- the small models -------------------------------------------------------------------------


def tiny_lpips():
    """LPIPS's network with AlexNet's layers and fewer channels; heads non-negative as trained ones are."""
    model = export_lpips.LpipsAlex(channels=(8, 12, 16, 12, 12)).eval()
    with torch.no_grad():
        for lin in model.lins:
            lin.weight.abs_()
    return model


class TinyFlow(torch.nn.Module):
    """RAFT's call shape: frames [N, 2, 3, H, W] on [-1, 1] (H, W multiples of 8) in, flow
    [N, 2, H, W] out, from features at 1/8 of the size upsampled by 8 as RAFT's are. No biases: a
    still pair has no flow."""

    def __init__(self):
        super().__init__()
        self.enc = torch.nn.Conv2d(6, 16, kernel_size=8, stride=8, bias=False)
        self.head = torch.nn.Conv2d(16, 2, kernel_size=3, padding=1, bias=False)

    def forward(self, frames):
        a, b = frames[:, 0], frames[:, 1]
        low = self.head(torch.tanh(self.enc(torch.cat([a, b - a], dim=1)) * 2.0)) * (b - a).abs().mean(dim=(1, 2, 3)).view(-1, 1, 1, 1) * 2.0
        return 8.0 * F.interpolate(low, scale_factor=8, mode="bilinear", align_corners=True)


def tiny_torchvision_raft():
    """torchvision's RAFT (raft_large's blocks, mask predictor included) with few channels."""
    from torchvision.models.optical_flow.raft import InstanceNorm2d, MaskPredictor, ResidualBlock, _raft

    return _raft(
        weights=None,
        progress=False,
        feature_encoder_layers=(8, 8, 12, 16, 24),
        feature_encoder_block=ResidualBlock,
        feature_encoder_norm_layer=InstanceNorm2d,
        context_encoder_layers=(8, 8, 12, 16, 24),
        context_encoder_block=ResidualBlock,
        context_encoder_norm_layer=torch.nn.BatchNorm2d,
        corr_block_num_levels=4,
        corr_block_radius=2,
        motion_encoder_corr_layers=(16, 12),
        motion_encoder_flow_layers=(8, 8),
        motion_encoder_out_channels=14,
        recurrent_block_hidden_state_size=12,
        recurrent_block_kernel_size=((1, 5), (5, 1)),
        recurrent_block_padding=((0, 2), (2, 0)),
        flow_head_hidden_size=16,
        use_mask_predictor=False,
        # raft_large's convex upsampling, with a narrower hidden layer than its 256.
        mask_predictor=MaskPredictor(in_channels=12, hidden_size=16, multiplier=0.25),
    ).eval()


def export_onnx(model, example, path, input_name, output_name, axes, out_axes, opset=13):
    with torch.no_grad():
        torch.onnx.export(
            model,
            (example,),
            path,
            input_names=[input_name],
            output_names=[output_name],
            dynamic_axes={input_name: axes, output_name: out_axes},
            opset_version=opset,
        )


# --- clips --------------------------------------------------------------------------------------


def moving_frames(seed, frames, height, width, speed=1.0, noise=1.5):
    """Smooth colour fields drifting `speed` radians a frame, plus noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    phase = rng.uniform(0, 2 * np.pi, size=3)
    scale = rng.uniform(4, 14, size=3)
    out = []
    for t in range(frames):
        chans = [127.5 + 110 * np.sin((xs + 1.3 * ys) / scale[c] + phase[c] + speed * t) for c in range(3)]
        img = np.stack(chans, axis=-1) + rng.normal(0, noise, size=(height, width, 3))
        out.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
    return np.stack(out)


def perturbed(frames, seed, amount):
    rng = np.random.default_rng(seed)
    noisy = frames.astype(np.float64) + rng.normal(0, amount, size=frames.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def write_clip(name, frames):
    folder = os.path.join(OUT, "clips", name)
    os.makedirs(folder, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame, mode="RGB").save(os.path.join(folder, f"{i + 1:03d}.png"), optimize=True)
    return f"clips/{name}"


def as_float(frames):
    """T, H, W, C bytes to T, C, H, W floats on [0, 1], as FastVideo's samples are."""
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0


# --- FastVideo's code paths ---------------------------------------------------------------------


class LpipsPackage:
    """lpips.LPIPS(net="alex") (version 0.1, lpips=True, spatial=False), called as in0, in1 on
    [-1, 1], from the weights of `net`: scaling layer, AlexNet's five ReLU taps, unit-normalised
    channels (eps 1e-10), squared differences, 1x1 linear heads, spatial means, summed."""

    def __init__(self, net):
        self.state = {k: v.clone() for k, v in net.state_dict().items()}

    def __call__(self, in0, in1):
        s = self.state

        def taps(x):
            x = (x - s["shift"]) / s["scale"]
            out = []
            x = F.relu(F.conv2d(x, s["features.0.weight"], s["features.0.bias"], stride=4, padding=2))
            out.append(x)
            x = F.max_pool2d(x, kernel_size=3, stride=2)
            x = F.relu(F.conv2d(x, s["features.3.weight"], s["features.3.bias"], padding=2))
            out.append(x)
            x = F.max_pool2d(x, kernel_size=3, stride=2)
            x = F.relu(F.conv2d(x, s["features.6.weight"], s["features.6.bias"], padding=1))
            out.append(x)
            x = F.relu(F.conv2d(x, s["features.8.weight"], s["features.8.bias"], padding=1))
            out.append(x)
            x = F.relu(F.conv2d(x, s["features.10.weight"], s["features.10.bias"], padding=1))
            out.append(x)
            return out

        def unit(x, eps=1e-10):
            return x / (torch.sqrt(torch.sum(x ** 2, dim=1, keepdim=True)) + eps)

        val = 0
        for k, (a, b) in enumerate(zip(taps(in0), taps(in1))):
            diff = (unit(a) - unit(b)) ** 2
            val = val + F.conv2d(diff, s[f"lins.{k}.weight"]).mean([2, 3], keepdim=True)
        return val  # N, 1, 1, 1


def fastvideo_lpips(model, video, reference, chunk=8):
    """FastVideo's common.lpips: frames cut to the shorter clip, scaled to [-1, 1], chunks of 8."""
    gen, ref = as_float(video), as_float(reference)
    n = min(gen.shape[0], ref.shape[0])
    gen, ref = gen[:n] * 2.0 - 1.0, ref[:n] * 2.0 - 1.0
    scores = []
    with torch.no_grad():
        for i in range(0, n, chunk):
            s = model(gen[i:i + chunk], ref[i:i + chunk]).squeeze()
            if s.dim() == 0:
                s = s.unsqueeze(0)
            scores.append(s)
    scores = torch.cat(scores)
    return {"score": float(scores.mean()), "perFrame": scores.tolist()}


class VBenchRaftCall:
    """RAFT as VBench calls it: image1, image2 on [0, 255], normalised to [-1, 1] inside, the
    last upsampled flow out (test_mode); here over the small model's stacked input."""

    def __init__(self, net):
        self.net = net

    def __call__(self, image1, image2):
        image1 = 2 * (image1 / 255.0) - 1.0
        image2 = 2 * (image2 / 255.0) - 1.0
        return self.net(torch.stack([image1, image2], dim=1))


def input_padder(shape):
    """RAFT's InputPadder (sintel mode): H and W padded up to multiples of 8, split around the image."""
    ht, wd = shape[-2:]
    pad_ht = (((ht // 8) + 1) * 8 - ht) % 8
    pad_wd = (((wd // 8) + 1) * 8 - wd) % 8
    pad = [pad_wd // 2, pad_wd - pad_wd // 2, pad_ht // 2, pad_ht - pad_ht // 2]
    return lambda *xs: [F.pad(x, pad, mode="replicate") for x in xs]


def top5_mean(flow):
    flo = flow.permute(1, 2, 0).numpy()
    rad = np.sqrt(flo[..., 0] ** 2 + flo[..., 1] ** 2)
    h, w = rad.shape
    cut = max(1, int(h * w * 0.05))
    return float(np.mean(np.sort(rad.flatten())[-cut:]))


def fastvideo_dynamic_degree(raft, frames, fps, chunk=16):
    """FastVideo's vbench.dynamic_degree with the clip's fps given."""
    video = as_float(frames)
    t, _, h, w = video.shape
    interval = max(1, round(fps / 8.0))
    video_255 = video * 255.0
    indices = list(range(0, t, interval))
    n = len(indices)
    img1 = [video_255[indices[i]] for i in range(n - 1)]
    img2 = [video_255[indices[i + 1]] for i in range(n - 1)]
    scores = []
    with torch.no_grad():
        for start in range(0, len(img1), chunk):
            end = min(start + chunk, len(img1))
            a, b = torch.stack(img1[start:end]), torch.stack(img2[start:end])
            a, b = input_padder(a.shape)(a, b)
            flow = raft(a, b)
            for i in range(flow.shape[0]):
                scores.append(top5_mean(flow[i]))
    thres = 6.0 * (min(h, w) / 256.0)
    count_needed = round(4 * (n / 16.0))
    count_above = sum(1 for s in scores if s > thres)
    return {
        "score": 1.0 if count_above >= count_needed else 0.0,
        "perPair": scores,
        "threshold": thres,
        "countAbove": count_above,
        "countNeeded": count_needed,
        "interval": interval,
        "framesUsed": n,
    }


# --- the export scripts on small modules --------------------------------------------------------


def check_lpips_loaders(tmp):
    """export_lpips reads torchvision's AlexNet keys with LPIPS's heads, and lpips.LPIPS's own keys."""
    torch.manual_seed(5)
    src = export_lpips.LpipsAlex(channels=(8, 12, 16, 12, 12))
    trunk = {k: v for k, v in src.state_dict().items() if k.startswith("features.")}
    trunk["classifier.1.weight"] = torch.zeros(1)  # AlexNet's head, not LPIPS's: ignored
    heads = {f"lin{k}.model.1.weight": src.state_dict()[f"lins.{k}.weight"] for k in range(5)}
    lpips_state = dict(heads)
    for k, i in zip(range(1, 6), export_lpips.CONV_INDEX):
        lpips_state[f"net.slice{k}.{i}.weight"] = src.state_dict()[f"features.{i}.weight"]
        lpips_state[f"net.slice{k}.{i}.bias"] = src.state_dict()[f"features.{i}.bias"]
    torch.save(trunk, os.path.join(tmp, "alexnet.pth"))
    torch.save(heads, os.path.join(tmp, "alex.pth"))
    torch.save(lpips_state, os.path.join(tmp, "lpips.pth"))
    a = export_lpips.load_split(export_lpips.LpipsAlex(channels=(8, 12, 16, 12, 12)), os.path.join(tmp, "alexnet.pth"), os.path.join(tmp, "alex.pth"))
    b = export_lpips.load_lpips_state(export_lpips.LpipsAlex(channels=(8, 12, 16, 12, 12)), os.path.join(tmp, "lpips.pth"))
    for k, v in src.state_dict().items():
        assert torch.equal(a.state_dict()[k], v), k
        assert torch.equal(b.state_dict()[k], v), k


def raft_export_check():
    """export_raft.py on torchvision's RAFT with few channels: the ONNX file and torch's own flow
    of fixed pairs (of two sizes and batches), which vidpool's test compares ONNX Runtime's to."""
    torch.manual_seed(11)
    raft = tiny_torchvision_raft()
    target = os.path.join(OUT, "raft-exported.onnx")
    model = export_raft.export(raft, target, iters=3, height=128, width=128)
    cases = []
    for n, h, w in [(1, 128, 128), (2, 136, 160)]:
        size = n * 2 * 3 * h * w
        frames = torch.linspace(-1, 1, size).mul(5.0).sin().reshape(n, 2, 3, h, w)
        with torch.no_grad():
            flow = model(frames)
        assert flow.shape == (n, 2, h, w), flow.shape
        cases.append({"shape": [n, 2, 3, h, w], "flow": flow.reshape(-1)[::211].tolist(), "every": 211, "absMean": float(flow.abs().mean())})
    return {"input": "sin(5 * linspace(-1, 1, N*2*3*H*W))", "iters": 3, "cases": cases}


# --- main ---------------------------------------------------------------------------------------


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    with tempfile.TemporaryDirectory() as tmp:
        check_lpips_loaders(tmp)

    torch.manual_seed(25)
    lpips_net = tiny_lpips()
    export_lpips.export(lpips_net, os.path.join(OUT, "lpips-tiny.onnx"))
    flow_net = TinyFlow().eval()
    export_onnx(flow_net, torch.zeros(1, 2, 3, 64, 64), os.path.join(OUT, "raft-tiny.onnx"), "frames", "flow",
                {0: "N", 3: "H", 4: "W"}, {0: "N", 2: "H", 3: "W"})

    package = LpipsPackage(lpips_net)
    lpips_cases = []
    base = moving_frames(1, 10, 64, 72, speed=0.3)
    lpips_cases.append({
        "video": write_clip("lpips-generated-0", perturbed(base[:7], 2, 12.0)),
        "reference": write_clip("lpips-reference-0", base),
        **fastvideo_lpips(package, perturbed(base[:7], 2, 12.0), base),
    })
    other = moving_frames(3, 5, 56, 80, speed=0.5)
    shifted = np.roll(other, 3, axis=2)
    lpips_cases.append({
        "video": write_clip("lpips-generated-1", shifted),
        "reference": write_clip("lpips-reference-1", other),
        **fastvideo_lpips(package, shifted, other),
    })

    raft = VBenchRaftCall(flow_net)
    dd_cases = []
    # RAFT takes frames of 128 or more a side (after padding): its coarsest correlation level is 1/64.
    moving = moving_frames(10, 13, 128, 142, speed=0.8)
    still = np.repeat(moving_frames(11, 1, 128, 136, noise=0.0), 13, axis=0)
    still[5:] = perturbed(still[5:6], 12, 30.0)  # one pair at the 8 fps stride changes
    odd = moving_frames(13, 10, 122, 131, speed=0.4, noise=1.0)
    for name, frames in [("dd-moving", moving), ("dd-still", still), ("dd-odd", odd)]:
        dd_cases.append({"clip": write_clip(name, frames), "fps": FOLDER_FPS, **fastvideo_dynamic_degree(raft, frames, FOLDER_FPS)})

    exported = raft_export_check()
    with open(os.path.join(OUT, "raft-exported.json"), "w") as f:
        json.dump(exported, f)
    reference = {
        "made_with": {"torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__},
        "lpips": lpips_cases,
        "dynamic_degree": dd_cases,
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
    print(json.dumps({
        "lpips": [c["score"] for c in lpips_cases],
        "dd": [(c["score"], c["countAbove"], c["countNeeded"], round(c["threshold"], 3), [round(s, 3) for s in c["perPair"]]) for c in dd_cases],
    }))


if __name__ == "__main__":
    sys.exit(main())
