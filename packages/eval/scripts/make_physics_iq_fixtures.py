#!/usr/bin/python3
"""Makes the fixtures of the Physics-IQ pair metrics (physics_iq.mse, physics_iq.spatiotemporal_iou,
physics_iq.spatial_iou, physics_iq.weighted_spatial_iou): PNG frame folders, and their scores
computed on FastVideo's code path with OpenCV.

FastVideo's path (fastvideo/eval/metrics/physics_iq/utils.py, prepare_pair_inputs with
roundtrip_generated_masks=False and no mask files, so both clips' masks come from their frames):
  - frames as (T, C, H, W) float32 on [0, 1] become uint8 (T, H, W, 3) RGB: rint(clamp * 255);
  - each clip keeps its first target_fps * duration_seconds = 150 frames;
  - the size is (max(W_ref // 4, 1), max(H_ref // 4, 1)) of the reference; frames of both clips
    are cv2.resize'd to it (INTER_LINEAR) and divided by 255 in float32;
  - motion masks at each clip's own size: cv2.cvtColor(RGB2GRAY), cv2.GaussianBlur (5, 5) sigma 0,
    a float64 running average by cv2.accumulateWeighted (alpha 0.3) seeded by the first frame,
    cv2.convertScaleAbs of it, cv2.absdiff, cv2.threshold 10 -> 255, cv2.morphologyEx OPEN then
    CLOSE with a 5x5 ones kernel; the first frame's mask all zeros; then cv2.resize'd to the size
    and kept where > 127;
  - mse: per frame np.mean((ref - gen)^2) in float32, rounded to 4 decimals; the score the sum
    over frames divided by their count (the clips must have as many frames);
  - spatiotemporal IoU: per frame over the zipped masks, |and| / |or| (1 when the union is empty),
    rounded to 4 decimals, then the mean; spatial IoU: the IoU of the max over frames;
    weighted spatial IoU: sum(masks) / T per clip, sum min / sum max over pixels where the max > 0.

The MSE is computed twice: in float32 exactly as FastVideo runs it ("float32"), and on the same
quarter-size values in float64 ("float64"). The masks involve no floating point but the running
average, which is float64 in both.

Needs Debian's python3-opencv, python3-numpy, python3-torch, python3-pil.
Run from anywhere: /usr/bin/python3 packages/eval/scripts/make_physics_iq_fixtures.py
Writes packages/eval/test/fixtures/physics-iq/ (frame folders, reference.json, and kernels.json: OpenCV's\nuint8 operations on random images).
"""

import json
import os
import shutil

import cv2
import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "physics-iq")
WINDOW = 30 * 5


def scene(seed, frames, height, width, speed, noise):
    """A textured background with a bright square moving across it, as uint8 (T, H, W, 3)."""
    rng = np.random.default_rng(seed)
    background = rng.integers(40, 90, size=(height // 4 + 1, width // 4 + 1, 3))
    background = np.kron(background, np.ones((4, 4, 1)))[:height, :width]
    side = max(height // 3, 4)
    out = []
    for t in range(frames):
        img = background.copy()
        x = int(2 + speed[0] * t) % max(width - side, 1)
        y = int(2 + speed[1] * t) % max(height - side, 1)
        img[y:y + side, x:x + side] = [220, 200, 60]
        img = img + rng.normal(0, noise, size=img.shape)
        out.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
    return np.stack(out)


def write_clip(name, frames):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame, mode="RGB").save(os.path.join(folder, f"{i + 1:03d}.png"), optimize=True)
    return name


def load(name):
    """A frame folder as FastVideo loads it: sorted images, RGB, float32 / 255, (T, C, H, W)."""
    folder = os.path.join(OUT, name)
    files = sorted(f for f in os.listdir(folder) if f.endswith(".png"))
    frames = [torch.from_numpy(np.array(Image.open(os.path.join(folder, f)).convert("RGB"))).permute(2, 0, 1).float() / 255.0
              for f in files]
    return torch.stack(frames)


def to_uint8(video):
    arr = video.float().clamp(0, 1).permute(0, 2, 3, 1).numpy()
    return np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)


def resize_all(frames, size):
    return np.stack([cv2.resize(frame, size) for frame in frames])


def motion_masks(frames):
    def grey(frame):
        return cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), (5, 5), 0)

    first = grey(frames[0])
    average = first.astype("float")
    masks = [np.zeros_like(first, dtype=np.uint8)]
    kernel = np.ones((5, 5), np.uint8)
    for frame in frames[1:]:
        g = grey(frame)
        cv2.accumulateWeighted(g, average, 0.3)
        diff = cv2.absdiff(g, cv2.convertScaleAbs(average))
        _, binary = cv2.threshold(diff, 10, 255, cv2.THRESH_BINARY)
        binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)
        binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, kernel)
        masks.append(binary)
    return np.stack(masks)


def iou(a, b):
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def scores(generated, reference):
    gen = to_uint8(generated)[:WINDOW]
    ref = to_uint8(reference)[:WINDOW]
    size = (max(ref.shape[2] // 4, 1), max(ref.shape[1] // 4, 1))
    gen_q = resize_all(gen, size).astype(np.float32) / 255.0
    ref_q = resize_all(ref, size).astype(np.float32) / 255.0
    gen_m = (resize_all(motion_masks(gen), size) > 127).astype(np.uint8)
    ref_m = (resize_all(motion_masks(ref), size) > 127).astype(np.uint8)
    out = {"width": size[0], "height": size[1], "videoFrames": len(gen), "referenceFrames": len(ref)}

    if len(gen) == len(ref):
        for name, dtype in (("float32", np.float32), ("float64", np.float64)):
            per = [round(float(np.mean((r.astype(dtype) - g.astype(dtype))**2)), 4) for r, g in zip(ref_q, gen_q)]
            out[f"mse_{name}"] = {"score": sum(per) / len(per), "perFrame": per}

    per = [round(iou(r, g), 4) for r, g in zip(ref_m, gen_m)]
    out["spatiotemporal_iou"] = {"score": sum(per) / len(per), "perFrame": per}
    spatial = lambda m: (np.max(m, axis=0) > 0).astype(np.uint8) * 255
    out["spatial_iou"] = iou(spatial(ref_m), spatial(gen_m))
    wr = np.sum(ref_m, axis=0, dtype=np.uint16) / len(ref_m)
    wg = np.sum(gen_m, axis=0, dtype=np.uint16) / len(gen_m)
    hi, lo = np.maximum(wr, wg), np.minimum(wr, wg)
    valid = hi > 0
    out["weighted_spatial_iou"] = 1.0 if valid.sum() == 0 else float(np.sum(lo[valid]) / np.sum(hi[valid]))
    # How much moves, so that the fixtures are seen to exercise the masks.
    out["movingShare"] = {"video": float(gen_m.mean()), "reference": float(ref_m.mean())}
    return out


def kernels():
    """OpenCV's uint8 operations on random images, each output for a bit-for-bit comparison."""
    rng = np.random.default_rng(11)
    image = rng.integers(0, 256, size=(17, 23, 3), dtype=np.uint8)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    small = rng.integers(0, 256, size=(3, 4), dtype=np.uint8)
    mask = ((rng.random(size=(17, 23)) > 0.6) * 255).astype(np.uint8)
    kernel = np.ones((5, 5), np.uint8)
    opened = cv2.morphologyEx(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
    sizes = [(5, 4), (6, 4), (40, 30), (23, 9), (7, 33), (1, 1)]
    flat = lambda a: a.reshape(-1).tolist()
    # Enough pixels that a grey conversion off by one level somewhere shows.
    colours = rng.integers(0, 256, size=(1, 2000, 3), dtype=np.uint8)
    return {
        "colours": {"data": flat(colours), "grey": flat(cv2.cvtColor(colours, cv2.COLOR_RGB2GRAY))},
        "image": {"width": 23, "height": 17, "data": flat(image)},
        "grey": flat(grey),
        "blur": flat(cv2.GaussianBlur(grey, (5, 5), 0)),
        "small": {"width": 4, "height": 3, "data": flat(small), "blur": flat(cv2.GaussianBlur(small, (5, 5), 0))},
        "resize": [{"width": w, "height": h, "data": flat(cv2.resize(image, (w, h)))} for w, h in sizes],
        "mask": {"data": flat(mask), "openClose": flat(opened)},
    }


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    pairs = []

    def pair(name, gen, ref):
        video = write_clip(f"{name}-video", gen)
        reference = write_clip(f"{name}-reference", ref)
        pairs.append({"name": name, "video": video, "reference": reference, **scores(load(video), load(reference))})

    # The same scene, the square a little slower and noisier in the generated clip.
    pair("moving", scene(2, 10, 40, 48, (2.6, 1.1), 4), scene(1, 10, 40, 48, (3.0, 1.0), 2))
    # Sizes not divisible by 4, the generated clip of another size (resized to the reference's
    # quarter) and frame count (no MSE; the IoUs compare what there is).
    pair("odd", scene(4, 8, 30, 50, (4.0, 0.0), 3), scene(3, 9, 37, 45, (3.0, 2.0), 3))
    # The same frame count and size, another motion.
    pair("crossing", scene(6, 8, 36, 44, (0.0, 3.0), 2), scene(5, 8, 36, 44, (3.5, 0.5), 2))
    # A generated clip smaller than the reference's quarter: its frames and masks are enlarged.
    pair("small", scene(9, 6, 8, 10, (1.0, 1.0), 2), scene(8, 6, 48, 60, (5.0, 3.0), 2))
    # Still clips: no mask anywhere (the IoUs are 1), identical frames (the MSE is 0).
    still = scene(7, 5, 24, 32, (0.0, 0.0), 0)
    pair("still", still, still)

    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"pairs": pairs}, f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "kernels.json"), "w") as f:
        json.dump(kernels(), f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
