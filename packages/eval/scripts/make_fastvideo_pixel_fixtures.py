#!/usr/bin/python3
"""Makes the fixtures of the FastVideo-definition pixel metrics (common.mse, common.psnr,
common.ssim): PNG frame folders, and their scores computed on FastVideo's code path in PyTorch.

FastVideo's path (fastvideo/eval/metrics/common/{psnr,ssim}/metric.py, fastvideo/eval/io/video.py):
  - frames are read as RGB, uint8 -> float32 / 255, as a (T, C, H, W) tensor;
  - both clips are cut to the shorter one's frame count;
  - PSNR: per frame, MSE = mean over (C, H, W) of (gen - ref)^2, PSNR = 10 log10(1 / max(MSE, 1e-10)),
    score = mean over frames, per-frame values in the details;
  - SSIM: 11-tap Gaussian (sigma 1.5) outer product as an 11x11 depthwise conv2d (groups = C),
    padding 5 with zeros ("same" size), C1 = 0.01^2, C2 = 0.03^2; per frame, the mean of the SSIM
    map over (C, H, W); score = mean over frames.
  FastVideo has no common.mse of its own: vidpool's common.mse is the per-frame MSE of its PSNR
  (before the 1e-10 floor), averaged over frames.

Every score is computed twice: in float32 exactly as FastVideo runs it ("float32"), and on the same
path in float64 ("float64"), which shows how far float32 rounding alone moves the values.

Needs Debian's python3-torch, python3-numpy, python3-pil.
Run from anywhere: /usr/bin/python3 packages/eval/scripts/make_fastvideo_pixel_fixtures.py
Writes packages/eval/test/fixtures/fastvideo-pixels/.
"""

import json
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "fastvideo-pixels")

torch.set_num_threads(1)


def pattern(seed, frames, height, width, noise):
    """Smooth moving colour fields plus noise, as uint8 (T, H, W, 3)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    phase = rng.uniform(0, 2 * np.pi, size=3)
    speed = rng.uniform(0.1, 0.6, size=3)
    scale = rng.uniform(3, 12, size=3)
    out = []
    for t in range(frames):
        chans = [127.5 + 120 * np.sin((xs + 1.3 * ys) / scale[c] + phase[c] + speed[c] * t) for c in range(3)]
        img = np.stack(chans, axis=-1) + rng.normal(0, noise, size=(height, width, 3))
        out.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
    return np.stack(out)


def degrade(seed, frames, noise):
    rng = np.random.default_rng(seed)
    out = frames.astype(np.float64) + rng.normal(0, noise, size=frames.shape)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def write_clip(name, frames):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame, mode="RGB").save(os.path.join(folder, f"{i + 1:03d}.png"), optimize=True)
    return name


def load(name):
    """fastvideo.eval.io.video's frame-folder loader: sorted images, RGB, float32 / 255, (T, C, H, W)."""
    folder = os.path.join(OUT, name)
    files = sorted(f for f in os.listdir(folder) if f.endswith(".png"))
    frames = [torch.from_numpy(np.array(Image.open(os.path.join(folder, f)).convert("RGB"))).permute(2, 0, 1).float() / 255.0
              for f in files]
    return torch.stack(frames)


def gaussian_kernel(size, sigma, channels, dtype):
    coords = torch.arange(size, dtype=dtype) - size // 2
    g = torch.exp(-coords**2 / (2 * sigma**2))
    g = g / g.sum()
    return (g.unsqueeze(1) * g.unsqueeze(0)).unsqueeze(0).unsqueeze(0).repeat(channels, 1, 1, 1)


def ssim_per_frame(x, y, window=11, c1=0.01**2, c2=0.03**2):
    channels = x.shape[1]
    kernel = gaussian_kernel(window, 1.5, channels, x.dtype)
    pad = window // 2
    mu_x = F.conv2d(x, kernel, groups=channels, padding=pad)
    mu_y = F.conv2d(y, kernel, groups=channels, padding=pad)
    mu_x2, mu_y2, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    sigma_x2 = F.conv2d(x * x, kernel, groups=channels, padding=pad) - mu_x2
    sigma_y2 = F.conv2d(y * y, kernel, groups=channels, padding=pad) - mu_y2
    sigma_xy = F.conv2d(x * y, kernel, groups=channels, padding=pad) - mu_xy
    ssim_map = ((2 * mu_xy + c1) * (2 * sigma_xy + c2)) / ((mu_x2 + mu_y2 + c1) * (sigma_x2 + sigma_y2 + c2))
    return ssim_map.mean(dim=(1, 2, 3))


def scores(gen, ref, dtype):
    gen, ref = gen.to(dtype), ref.to(dtype)
    n = min(gen.shape[0], ref.shape[0])
    gen, ref = gen[:n], ref[:n]
    mse = ((gen - ref)**2).mean(dim=(1, 2, 3))
    psnr = 10.0 * torch.log10(1.0**2 / mse.clamp(min=1e-10))
    ssim = torch.cat([ssim_per_frame(gen[i:i + 16], ref[i:i + 16]) for i in range(0, n, 16)])
    pack = lambda t: {"score": t.mean().item(), "perFrame": t.tolist()}
    return {"frames": n, "mse": pack(mse), "psnr": pack(psnr), "ssim": pack(ssim)}


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    pairs = []

    def pair(name, gen, ref):
        video = write_clip(f"{name}-video", gen)
        reference = write_clip(f"{name}-reference", ref)
        g, r = load(video), load(reference)
        pairs.append({
            "name": name,
            "video": video,
            "reference": reference,
            "float32": scores(g, r, torch.float32),
            "float64": scores(g, r, torch.float64),
        })

    # A longer reference: both are cut to the generated clip's 6 frames.
    ref = pattern(1, 7, 30, 40, 4)
    pair("noisy", degrade(2, ref[:6], 12), ref)
    # A longer generated clip, odd sizes, and a frame left identical (PSNR's 1e-10 floor: 100 dB).
    ref = pattern(3, 4, 13, 17, 8)
    gen = degrade(4, np.concatenate([ref, pattern(5, 1, 13, 17, 8)]), 30)
    gen[1] = ref[1]
    pair("odd", gen, ref)
    # Frames smaller than the window: the zero padding still gives a score.
    ref = pattern(6, 3, 5, 7, 10)
    pair("tiny", degrade(7, ref, 20), ref)
    # Identical clips.
    ref = pattern(8, 3, 16, 24, 6)
    pair("same", ref, ref)

    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"pairs": pairs}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
