# FastVideo's common.ssim code path on the CPU (torch conv2d, as in
# fastvideo/eval/metrics/common/ssim/metric.py, reimplemented in scripts/make_fastvideo_pixel_fixtures.py)
# on the RGB frames the vidpool bench wrote (uint8, frames x height x width x 3), read as FastVideo
# reads frames (float32 / 255, T x C x H x W), in chunks of 16 frames. For each torch thread count
# given: the best wall-clock rate of ROUNDS runs over all frames. Prints one JSON line.
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from make_fastvideo_pixel_fixtures import ssim_per_frame  # noqa: E402

path_a, path_b = sys.argv[1], sys.argv[2]
width, height, frames, rounds = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
threads = [int(t) for t in sys.argv[7].split(",")]


def load(path):
    arr = np.fromfile(path, dtype=np.uint8).reshape(frames, height, width, 3)
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 255.0


a, b = load(path_a), load(path_b)


def run():
    return torch.cat([ssim_per_frame(a[i:i + 16], b[i:i + 16]) for i in range(0, frames, 16)])


out = {"torch": torch.__version__, "rates": {}}
for n in threads:
    torch.set_num_threads(n)
    run()  # warm up
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        scores = run()
        best = min(best, time.perf_counter() - start)
    out["rates"][str(n)] = frames * width * height / 1e6 / best
out["scores"] = scores.tolist()
print(json.dumps(out))
