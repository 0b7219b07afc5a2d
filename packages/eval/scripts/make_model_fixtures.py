#!/usr/bin/python3
"""Makes the model metrics' test fixtures: small models with the inputs and outputs of the real
ones (random weights), PNG frame folders, and the reference scores computed on the PyTorch path
of the metrics' definitions (torch resize and normalisation, numpy's covariance, scipy's sqrtm).

Needs Debian's python3-torch, python3-torchvision, python3-onnx, python3-scipy, python3-pil.
Run from anywhere: /usr/bin/python3 packages/eval/scripts/make_model_fixtures.py
Writes packages/eval/test/fixtures/models/.
"""

import json
import os
import shutil
import sys

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision.transforms.functional import normalize, resize

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "models")
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]

torch.set_num_threads(1)


class TinyI3D(torch.nn.Module):
    """I3D's call shape: [N, 3, T, 224, 224] on [-1, 1] in, [N, 400] out."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv3d(3, 16, kernel_size=(3, 8, 8), stride=(1, 8, 8))
        self.mix = torch.nn.Conv3d(16, 32, kernel_size=1)
        self.head = torch.nn.Linear(32, 400)
        with torch.no_grad():
            # Features that spread like a trained network's (FVDs of tens, not hundredths).
            self.head.weight.mul_(30.0)

    def forward(self, video):
        x = torch.relu(self.conv(video))
        x = torch.relu(self.mix(x))
        x = x.mean(dim=(2, 3, 4))
        return self.head(x)


class TinyDino(torch.nn.Module):
    """DINO ViT-B/16's call shape: [N, 3, H, W] in (patches of 16), the 768 class-token values out."""

    def __init__(self):
        super().__init__()
        self.patch = torch.nn.Conv2d(3, 32, kernel_size=16, stride=16)
        self.mix = torch.nn.Conv2d(32, 64, kernel_size=1)
        self.head = torch.nn.Linear(64, 768, bias=False)

    def forward(self, pixel_values):
        x = F.gelu(self.patch(pixel_values))
        x = self.mix(x)
        x = x.mean(dim=(2, 3))
        return self.head(x)


def export(model, example, path, input_name, axes):
    torch.onnx.export(
        model,
        example,
        path,
        input_names=[input_name],
        output_names=["features"],
        dynamic_axes={input_name: axes, "features": {0: "N"}},
        opset_version=13,
    )


def clip_frames(seed, frames, height, width):
    """A clip that both sides decode identically: smooth moving colour fields plus a little noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    phase = rng.uniform(0, 2 * np.pi, size=3)
    speed = rng.uniform(0.1, 0.6, size=3)
    scale = rng.uniform(4, 20, size=3)
    out = []
    for t in range(frames):
        chans = []
        for c in range(3):
            v = 127.5 + 110 * np.sin((xs + 1.7 * ys) / scale[c] + phase[c] + speed[c] * t)
            chans.append(v)
        img = np.stack(chans, axis=-1) + rng.normal(0, 6, size=(height, width, 3))
        out.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
    return np.stack(out)  # T, H, W, C


def write_clip(name, frames):
    folder = os.path.join(OUT, "clips", name)
    os.makedirs(folder, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame, mode="RGB").save(os.path.join(folder, f"{i + 1:03d}.png"), optimize=True)
    return f"clips/{name}"


def as_float(frames):
    """T, H, W, C bytes to T, C, H, W floats on [0, 1]."""
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0


def cosine_consistency(features):
    """VBench's consistency of L2-normalised (T, D) features, from its definition."""
    if features.shape[0] <= 1:
        return 1.0
    total = 0.0
    for t in range(1, features.shape[0]):
        to_prev = F.cosine_similarity(features[t - 1:t], features[t:t + 1]).item()
        to_first = F.cosine_similarity(features[0:1], features[t:t + 1]).item()
        total += (max(0.0, to_prev) + max(0.0, to_first)) / 2
    return total / (features.shape[0] - 1)


def subject_consistency(model, frames):
    video = as_float(frames)
    video = resize(video, 224, antialias=False)
    video = normalize(video, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    with torch.no_grad():
        feats = F.normalize(model(video), dim=-1, p=2)
    return cosine_consistency(feats)


def i3d_features(model, frames):
    video = as_float(frames).unsqueeze(0)  # 1, T, C, H, W
    b, t, c, h, w = video.shape
    video = video * 2.0 - 1.0
    if h != 224 or w != 224:
        video = F.interpolate(video.reshape(b * t, c, h, w), size=(224, 224), mode="bilinear", align_corners=False)
        video = video.reshape(b, t, c, 224, 224)
    with torch.no_grad():
        return model(video.permute(0, 2, 1, 3, 4).contiguous()).numpy()


def gaussian(features):
    features = np.atleast_2d(features)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet(mu1, s1, mu2, s2, eps=1e-6):
    s1 = s1 + eps * np.eye(s1.shape[0])
    s2 = s2 + eps * np.eye(s2.shape[0])
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    diff = mu1 - mu2
    return float(np.sum(diff ** 2) + np.trace(s1 + s2 - 2.0 * covmean))


def preprocess_reference():
    """torch's outputs for the preprocessing kernels: resizes, shorter-side sizes, normalisation, layouts."""
    rng = np.random.default_rng(7)
    resizes = []
    for (h, w), (oh, ow) in [((7, 5), (3, 4)), ((4, 6), (9, 11)), ((13, 9), (5, 5)), ((3, 3), (3, 3)), ((1, 4), (2, 7))]:
        plane = rng.uniform(-1, 1, size=(1, 1, h, w)).astype(np.float32)
        out = F.interpolate(torch.from_numpy(plane), size=(oh, ow), mode="bilinear", align_corners=False)
        resizes.append({"in": [h, w], "out": [oh, ow], "input": plane.ravel().tolist(), "output": out.numpy().ravel().tolist()})
    shorter = []
    for h, w in [(240, 320), (480, 832), (320, 240), (224, 224), (17, 1000), (1000, 17), (36, 48)]:
        out = resize(torch.zeros(1, h, w), 224, antialias=False)
        shorter.append({"in": [h, w], "out": list(out.shape[1:])})
    frame = rng.integers(0, 256, size=(6, 10, 3), dtype=np.uint8)
    image = normalize(resize(as_float(frame[None]), 4, antialias=False), mean=IMAGENET_MEAN, std=IMAGENET_STD)
    clip = rng.integers(0, 256, size=(2, 5, 7, 3), dtype=np.uint8)
    video = as_float(clip) * 2.0 - 1.0
    video = F.interpolate(video, size=(3, 4), mode="bilinear", align_corners=False).unsqueeze(0).permute(0, 2, 1, 3, 4)
    return {
        "resizes": resizes,
        "shorterSide": shorter,
        "image": {"frame": frame.ravel().tolist(), "shape": [6, 10], "output": image.numpy().ravel().tolist(), "outShape": list(image.shape)},
        "clip": {"frames": clip.ravel().tolist(), "shape": [2, 5, 7], "output": video.contiguous().numpy().ravel().tolist(), "outShape": list(video.shape)},
    }


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    torch.manual_seed(24)
    i3d = TinyI3D().eval()
    dino = TinyDino().eval()
    export(i3d, torch.zeros(1, 3, 10, 224, 224), os.path.join(OUT, "i3d-tiny.onnx"), "video", {0: "N", 2: "T"})
    export(dino, torch.zeros(2, 3, 224, 224), os.path.join(OUT, "dino-tiny.onnx"), "pixel_values", {0: "N", 2: "H", 3: "W"})
    # The same model taking 224x224 frames only: its signature fits, a frame of another size fails at run time.
    export(dino, torch.zeros(2, 3, 224, 224), os.path.join(OUT, "dino-fixed224.onnx"), "pixel_values", {0: "N"})

    fvd_clips = {"generated": [], "reference": [], "short": []}
    gen_feats, ref_feats = [], []
    for i in range(4):
        frames = clip_frames(100 + i, 12, 48, 64)
        fvd_clips["generated"].append(write_clip(f"fvd-generated-{i}", frames))
        gen_feats.append(i3d_features(i3d, frames))
    for i in range(4):
        frames = clip_frames(200 + i, 11 + i, 48, 64)
        fvd_clips["reference"].append(write_clip(f"fvd-reference-{i}", frames))
        ref_feats.append(i3d_features(i3d, frames))
    fvd_clips["short"].append(write_clip("fvd-short", clip_frames(300, 8, 48, 64)))
    gen = np.concatenate(gen_feats, axis=0)
    ref = np.concatenate(ref_feats, axis=0)
    mu_g, s_g = gaussian(gen)
    mu_r, s_r = gaussian(ref)
    fvd = frechet(mu_g, s_g, mu_r, s_r)
    fvd_self = frechet(mu_g, s_g, mu_g, s_g)

    sc = []
    for i, (h, w, t) in enumerate([(36, 48, 6), (48, 36, 5), (40, 40, 4), (30, 50, 1)]):
        frames = clip_frames(400 + i, t, h, w)
        sc.append({"clip": write_clip(f"sc-{i}", frames), "score": subject_consistency(dino, frames)})

    reference = {
        "made_with": {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "fvd": {"clips": fvd_clips, "score": fvd, "self": fvd_self, "features": gen[0, :8].tolist()},
        "subject_consistency": sc,
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f, indent=2)
    with open(os.path.join(OUT, "preprocess-reference.json"), "w") as f:
        json.dump(preprocess_reference(), f)
    print(json.dumps({"fvd": fvd, "fvd_self": fvd_self, "sc": [s["score"] for s in sc]}))


if __name__ == "__main__":
    sys.exit(main())
