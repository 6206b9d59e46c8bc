"""Inference speed on this CPU: PyTorch eager against ONNX Runtime, and the live stream.

Printed, side by side for the same network (ImageNet EfficientNet-Lite0 at 224 px unless
``--arch`` says otherwise):

* batch 1, ms/image (median of many single-image calls: what a live stream pays per frame),
* batch 32, images/s (what batch prediction and evaluation get),
* the ratio ONNX Runtime / PyTorch for both;

then the live stream: :class:`cvlib.serving.stream.LatestFrameScorer` driven exactly as the WebRTC
callback drives it (a 640x480 YUV video frame converted to RGB, scored, drawn on, converted
back), with frames made from real photos arriving at 30 frames/s, reporting the frames
scored per second, the latency and the label's delay.

Run: ``.venv/bin/python bench/inference.py`` (about a minute; the machine should be idle).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image

from cvlib.models.inference import Predictor
from cvlib.serving.stream import LatestFrameScorer

REPO = Path(__file__).resolve().parent.parent
PHOTOS = REPO.parent / "shared" / "data" / "groceries4"
FRAME_SIZE = (640, 480)


def batch1_ms(predictor: Predictor, repeats: int, clock=time.perf_counter) -> float:
    """Median milliseconds for one preprocessed image (after warming up).

    With ``clock=time.process_time`` it is the CPU time of this process instead of the
    wall time: on a machine shared with other work, a single-threaded engine's CPU time
    is close to what it would take on the idle machine.
    """
    size = predictor.preprocessing.image_size
    batch = np.random.default_rng(0).standard_normal((1, 3, size, size), dtype=np.float32)
    for _ in range(5):
        predictor.logits(batch)
    times = []
    for _ in range(repeats):
        start = clock()
        predictor.logits(batch)
        times.append(clock() - start)
    return 1000 * statistics.median(times)


def single_thread_cpu_ms(arch: str, engine: str, repeats: int) -> float:
    """CPU ms per image with one thread: comparable across engines even on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    try:
        predictor = Predictor.pretrained(arch, engine, threads=1)
        return batch1_ms(predictor, repeats, clock=time.process_time)
    finally:
        torch.set_num_threads(threads)


def load_average() -> str:
    """The 1-minute load average and the number of cores: are these figures trustworthy?"""
    import os

    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def batch32_images_per_s(predictor: Predictor, repeats: int) -> float:
    """Images per second for batches of 32 (best of ``repeats``, after one warm-up)."""
    size = predictor.preprocessing.image_size
    batch = np.random.default_rng(0).standard_normal((32, 3, size, size), dtype=np.float32)
    predictor.logits(batch)
    best = min(_timed(predictor.logits, batch) for _ in range(repeats))
    return 32 / best


def _timed(func, arg) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    func(arg)
    return time.perf_counter() - start


def video_frames(n: int) -> list[np.ndarray]:
    """640x480 frames of real photos drifting across a grey background, as a camera might."""
    from skimage import data as skdata

    photos = sorted(PHOTOS.glob("*/*.jpg"))[::10] if PHOTOS.is_dir() else []
    sources = [Image.open(p).convert("RGB") for p in photos] or [
        Image.fromarray(skdata.chelsea()), Image.fromarray(skdata.coffee())]
    frames = []
    for i in range(n):
        canvas = Image.new("RGB", FRAME_SIZE, (118, 118, 118))
        photo = sources[(i // 30) % len(sources)].resize((360, 360))
        canvas.paste(photo, (140 + (i % 30) * 2, 60))
        frames.append(np.asarray(canvas))
    return frames


def stream_run(predictor: Predictor, seconds: float, fps: float = 30.0) -> dict[str, float]:
    """Drive the scorer like the WebRTC callback does, at the camera's pace."""
    import av

    frames = video_frames(int(seconds * fps))
    scorer = LatestFrameScorer(predictor)
    callback_ms = []
    start = time.perf_counter()
    for i, rgb in enumerate(frames):
        due = start + i / fps
        time.sleep(max(0.0, due - time.perf_counter()))
        video = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        began = time.perf_counter()
        out = scorer.annotate(video.to_ndarray(format="rgb24"))
        av.VideoFrame.from_ndarray(out, format="rgb24")
        callback_ms.append(1000 * (time.perf_counter() - began))
    stats = scorer.stats()
    elapsed = time.perf_counter() - start
    scorer.close()
    return {"camera_fps": len(frames) / elapsed, "scored_fps": stats.processed / elapsed,
            "window_fps": stats.processed_fps, "latency_ms": stats.latency_ms,
            "delay_ms": stats.delay_ms, "callback_ms": statistics.median(callback_ms),
            "scored": stats.processed, "skipped": stats.dropped}


def main() -> None:
    """Measure both engines, print them side by side, then the stream."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="efficientnet_lite0")
    parser.add_argument("--repeats", type=int, default=50, help="batch-1 calls per engine")
    parser.add_argument("--stream-seconds", type=float, default=10.0)
    args = parser.parse_args()

    import torch

    threads = torch.get_num_threads()
    print(f"before: {load_average()}")
    engines = {"PyTorch eager": Predictor.pretrained(args.arch, "torch"),
               "ONNX Runtime": Predictor.pretrained(args.arch, "onnx")}
    size = engines["ONNX Runtime"].preprocessing.image_size
    print(f"{args.arch} at {size} px, torch {torch.__version__} with {threads} threads, "
          "ONNX Runtime with its default threads")
    rows = {name: (batch1_ms(p, args.repeats), batch32_images_per_s(p, 3),
                   single_thread_cpu_ms(args.arch, p.engine, args.repeats))
            for name, p in engines.items()}
    print(f"{'engine':<16}{'batch 1 ms/image':>18}{'batch 32 images/s':>20}"
          f"{'1-thread CPU ms/image':>24}")
    for name, (ms, ips, cpu) in rows.items():
        print(f"{name:<16}{ms:>18.1f}{ips:>20.1f}{cpu:>24.1f}")
    (t_ms, t_ips, t_cpu), (o_ms, o_ips, o_cpu) = rows["PyTorch eager"], rows["ONNX Runtime"]
    print(f"ONNX Runtime vs PyTorch: {t_ms / o_ms:.2f}x faster at batch 1, "
          f"{o_ips / t_ips:.2f}x the throughput at batch 32, "
          f"{t_cpu / o_cpu:.2f}x less CPU time per image")

    fastest = min(rows, key=lambda name: rows[name][0])
    stream = stream_run(engines[fastest], args.stream_seconds)
    print(f"stream ({fastest}, {FRAME_SIZE[0]}x{FRAME_SIZE[1]} frames at "
          f"{stream['camera_fps']:.1f} frames/s, {size} px model input): "
          f"{stream['scored_fps']:.1f} frames/s scored ({stream['window_fps']:.1f} over the last "
          f"30), latency {stream['latency_ms']:.0f} ms, label delay {stream['delay_ms']:.0f} ms, "
          f"callback {stream['callback_ms']:.1f} ms/frame, {stream['scored']} scored, "
          f"{stream['skipped']} skipped")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
