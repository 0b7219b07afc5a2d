#!/usr/bin/python3
"""The seed's design in Python, for the bench: loader threads decoding with PyAV into a bounded
queue.Queue, one consumer running the model in PyTorch on the CPU, the metric by FastVideo's
definitions (torch resize and normalisation; FastVideo's _clip_transform for background
consistency; scipy's sqrtm for FVD).
Usage: seed.py sc|bc|fvd MODELS THREADS LOADERS gen1 ... [-- ref1 ...]; prints one JSON line."""

import json
import os
import queue
import resource
import sys
import threading
import time

import av
import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from torchvision.transforms import InterpolationMode
from torchvision.transforms.functional import center_crop, normalize, resize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import build, build_clip  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def decode(path):
    with av.open(path) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return np.stack(frames)  # T, H, W, 3


def pool(paths, loaders, maxsize):
    """Yields (index, frames) in completion order; loaders decode ahead into a bounded queue."""
    q = queue.Queue(maxsize=maxsize)
    todo = queue.Queue()
    for item in enumerate(paths):
        todo.put(item)

    def loader():
        while True:
            try:
                i, p = todo.get_nowait()
            except queue.Empty:
                q.put(None)
                return
            q.put((i, decode(p)))

    threads = [threading.Thread(target=loader, daemon=True) for _ in range(loaders)]
    for t in threads:
        t.start()
    done = 0
    while done < loaders:
        item = q.get()
        if item is None:
            done += 1
            continue
        yield item


def as_float(frames):
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0


def consistency(feats):
    if feats.shape[0] <= 1:
        return 1.0
    total = 0.0
    for t in range(1, feats.shape[0]):
        a = F.cosine_similarity(feats[t - 1:t], feats[t:t + 1]).item()
        b = F.cosine_similarity(feats[0:1], feats[t:t + 1]).item()
        total += (max(0.0, a) + max(0.0, b)) / 2
    return total / (feats.shape[0] - 1)


def main(argv):
    mode, models_dir, threads, loaders = argv[0], argv[1], int(argv[2]), int(argv[3])
    rest = argv[4:]
    gen = rest[:rest.index("--")] if "--" in rest else rest
    ref = rest[rest.index("--") + 1:] if "--" in rest else []
    torch.set_num_threads(threads)
    if mode == "bc":
        model = build_clip()
        model.load_state_dict(torch.load(os.path.join(models_dir, "clip-b32.pt")))
    else:
        vit, s3d = build()
        model = vit if mode == "sc" else s3d
        model.load_state_dict(torch.load(os.path.join(models_dir, "vit.pt" if mode == "sc" else "s3d.pt")))
    model.eval()
    paths = gen + ref
    out = [None] * len(paths)
    wait = 0.0
    start = time.perf_counter()
    it = pool(paths, loaders, maxsize=2 * loaders)
    with torch.no_grad():
        while True:
            t0 = time.perf_counter()
            item = next(it, None)
            wait += time.perf_counter() - t0
            if item is None:
                break
            i, frames = item
            video = as_float(frames)
            if mode == "sc":
                video = normalize(resize(video, 224, antialias=False), mean=MEAN, std=STD)
                feats = torch.cat([F.normalize(model(video[j:j + 16]), dim=-1, p=2) for j in range(0, video.shape[0], 16)])
                out[i] = consistency(feats)
            elif mode == "bc":
                # FastVideo's _clip_transform, then its chunks of 64 frames.
                video = resize(video, 224, interpolation=InterpolationMode.BICUBIC, antialias=False)
                video = normalize(center_crop(video, 224), mean=CLIP_MEAN, std=CLIP_STD)
                feats = torch.cat([F.normalize(model(video[j:j + 64]).float(), dim=-1, p=2) for j in range(0, video.shape[0], 64)])
                out[i] = consistency(feats)
            else:
                video = F.interpolate(video * 2.0 - 1.0, size=(224, 224), mode="bilinear", align_corners=False)
                out[i] = model(video.unsqueeze(0).permute(0, 2, 1, 3, 4).contiguous()).numpy()[0]
    result = {}
    if mode == "fvd":
        g = np.stack(out[:len(gen)])
        r = np.stack(out[len(gen):])
        s1 = np.cov(g, rowvar=False) + 1e-6 * np.eye(g.shape[1])
        s2 = np.cov(r, rowvar=False) + 1e-6 * np.eye(r.shape[1])
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        covmean = covmean.real if np.iscomplexobj(covmean) else covmean
        diff = g.mean(axis=0) - r.mean(axis=0)
        result["fvd"] = float(np.sum(diff ** 2) + np.trace(s1 + s2 - 2.0 * covmean))
    else:
        result["scores"] = out
    wall = time.perf_counter() - start
    result.update({
        "wall": wall,
        "wait": wait,
        "clips": len(paths),
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
        "build": [line.strip() for line in torch.__config__.show().splitlines() if line.strip()][:3],
        "threads": torch.get_num_threads(),
    })
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
