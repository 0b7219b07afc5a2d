# scikit-image's SSIM on the luma frames the vidpool bench wrote (float32, frames x height x width):
# structural_similarity with gaussian_weights, sigma 1.5, use_sample_covariance False,
# data_range 255, as the metric-kernels issue asks. Prints one JSON line: Mpx/s per CPU second of
# this process, and the per-frame scores.
import json
import sys
import time

import numpy as np
from skimage.metrics import structural_similarity

path_a, path_b, width, height, frames = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
a = np.fromfile(path_a, dtype=np.float32).reshape(frames, height, width)
b = np.fromfile(path_b, dtype=np.float32).reshape(frames, height, width)


def score(f):
    return structural_similarity(
        a[f], b[f], gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255.0
    )


score(0)  # warm up
start = time.process_time()
scores = [float(score(f)) for f in range(frames)]
seconds = time.process_time() - start
print(json.dumps({"mpx_per_s": frames * width * height / 1e6 / seconds, "scores": scores}))
