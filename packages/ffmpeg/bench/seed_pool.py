"""The seed's design, for the benchmark: FastVideo's evaluation VideoPool as its reference page
describes it, written here in plain Python. Loader threads take sample indices from a task queue,
decode every video of the sample with PyAV to an rgb24 numpy array (frames, height, width, 3), and
put (index, decoded sample) into a bounded queue.Queue of max_size; a loader's exception travels
through the queue and is raised on the consumer. The consumer loop takes items until every sample
was handed out, optionally computing VBench's temporal flickering in numpy on each clip.

usage: seed_pool.py LOADERS MAX_SIZE none|flicker CLIP...
prints one JSON line: clips, seconds, clips_per_s, max_rss_mb
"""
import json
import queue
import resource
import sys
import threading
import time

import av
import numpy as np


def decode(path):
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return np.stack(frames)


class Pool:
    def __init__(self, samples, loader_threads=1, max_size=4):
        if loader_threads < 1:
            raise ValueError("loader_threads must be >= 1")
        self.samples = samples
        self.tasks = queue.Queue()
        for index in range(len(samples)):
            self.tasks.put(index)
        self.ready = queue.Queue(maxsize=max(1, max_size))
        self.stop = threading.Event()
        self.handed_out = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.load, daemon=True) for _ in range(loader_threads)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=1)

    def load(self):
        while not self.stop.is_set():
            try:
                index = self.tasks.get_nowait()
            except queue.Empty:
                return
            try:
                item = (index, {key: decode(value) for key, value in self.samples[index].items()})
            except Exception as error:  # travels to the consumer
                item = (index, error)
            while not self.stop.is_set():
                try:
                    self.ready.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def get(self):
        while True:
            with self.lock:
                if self.handed_out >= len(self.samples):
                    return None
            try:
                index, decoded = self.ready.get(timeout=0.1)
            except queue.Empty:
                continue
            with self.lock:
                self.handed_out += 1
            if isinstance(decoded, Exception):
                raise decoded
            return index, decoded


def flicker(frames):
    """VBench temporal flickering: (255 - mean absolute difference of consecutive frames) / 255."""
    a = frames[1:].astype(np.int16)
    b = frames[:-1].astype(np.int16)
    return (255.0 - float(np.abs(a - b).mean())) / 255.0


def main():
    loaders, max_size, metric = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    clips = sys.argv[4:]
    samples = [{"video": path} for path in clips]
    results = [None] * len(samples)
    start = time.perf_counter()
    with Pool(samples, loader_threads=loaders, max_size=max_size) as pool:
        while True:
            item = pool.get()
            if item is None:
                break
            index, decoded = item
            video = decoded["video"]
            results[index] = flicker(video) if metric == "flicker" else int(video[0, 0, 0, 0])
    seconds = time.perf_counter() - start
    assert all(r is not None for r in results)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"clips": len(clips), "seconds": seconds, "clips_per_s": len(clips) / seconds, "max_rss_mb": rss,
                      "scores": results if metric == "flicker" else None}))


if __name__ == "__main__":
    main()
