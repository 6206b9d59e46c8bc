"""The rules of thumb on page 03, measured on this machine: decoding, and full-training settings.

Two parts, each printing one JSON line per measurement and a Markdown table at the end:

``decode``
    Milliseconds to decode (and shrink to the model's input) one photo: a 224 px JPEG, a
    12-megapixel JPEG (4000x3000, what a phone takes), and the same 12 MP JPEG decoded with
    Pillow's ``draft`` mode (the JPEG decoder scales by 1/2, 1/4 or 1/8 while decoding).
    The 12 MP photo is one of the data's photos upscaled with some sensor-like noise, so it
    compresses like a photo, not like a flat picture.
``train``
    Full training (fine-tuning the whole network) of EfficientNet-Lite0 on the data's seeded
    split, one setting changed at a time from a baseline (160 px, 3 epochs, batch 16,
    learning rate 2e-4): validation accuracy, best epoch and wall time per run.

Usage::

    nice -n 10 .venv/bin/python bench/rules_of_thumb.py --data ../shared/data/groceries4
    nice -n 10 .venv/bin/python bench/rules_of_thumb.py --part decode
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent

BASELINE = {"architecture": "efficientnet_lite0", "image_size": 160, "epochs": 3,
            "batch_size": 16, "lr": 2e-4}
VARIANTS = [("learning rate", "lr", [1e-5, 1e-3, 1e-2]),
            ("epochs", "epochs", [1, 6]),
            ("batch size", "batch_size", [8, 32]),
            ("image size", "image_size", [128, 224])]


def timed_ms(func, repeats: int) -> float:
    """Median milliseconds of ``func()`` over ``repeats`` calls, after one warm-up."""
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def twelve_megapixel_jpeg(photo: Path) -> bytes:
    """A 4000x3000 JPEG (quality 90) made from one real photo, with sensor-like noise."""
    from cvlib.data.images import load_image

    big = load_image(photo).resize((4000, 3000), Image.Resampling.BICUBIC)
    noise = np.random.default_rng(0).normal(0, 6, (3000, 4000, 3))
    pixels = np.clip(np.asarray(big, np.float32) + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def decode_part(data: Path, side: int = 224) -> list[dict]:
    """Decode-and-resize time of a small JPEG, a 12 MP JPEG, and the 12 MP one in draft mode."""
    from cvlib.data.images import load_image

    photo = next(p for p in sorted(data.rglob("*.jpg")))
    small = photo.read_bytes()
    big = twelve_megapixel_jpeg(photo)

    def decode(raw: bytes, draft: bool) -> None:
        img = Image.open(io.BytesIO(raw))
        if draft:
            img.draft("RGB", (side, side))
        img.convert("RGB").resize((side, side), Image.Resampling.BILINEAR)

    rows = [
        {"what": f"{Image.open(io.BytesIO(small)).size[0]} px JPEG, decode + resize to {side}",
         "ms": timed_ms(lambda: decode(small, False), 50), "kb": len(small) // 1024},
        {"what": f"12 MP JPEG (4000x3000), decode + resize to {side}",
         "ms": timed_ms(lambda: decode(big, False), 5), "kb": len(big) // 1024},
        {"what": f"12 MP JPEG, draft-mode decode (1/8 scale) + resize to {side}",
         "ms": timed_ms(lambda: decode(big, True), 10), "kb": len(big) // 1024},
        {"what": "12 MP JPEG through the studio's loader (cvlib.data.images.load_image)",
         "ms": timed_ms(lambda: load_image(big, "12mp.jpg"), 5), "kb": len(big) // 1024},
    ]
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


def train_part(data: Path, only: list[str] | None = None) -> list[dict]:
    """Full-training runs, one setting changed at a time from the baseline.

    ``only`` keeps some runs, named ``baseline`` or ``setting=value`` (``epochs=1``).
    """
    from cvlib.data.dataset import load_dataset
    from cvlib.runtime.progress import Progress
    from cvlib.training.config import TrainConfig
    from cvlib.training.train import train

    dataset = load_dataset(data)
    runs = [("baseline", None, None)] + [(label, name, v) for label, name, values in VARIANTS
                                          for v in values]
    if only:  # in the order asked for
        named = {(f"{r[1]}={r[2]}" if r[1] else "baseline"): r for r in runs}
        runs = [named[name] for name in only]
    rows = []
    for label, name, value in runs:
        settings = {**BASELINE, **({name: value} if name else {})}
        progress = Progress()
        start = time.perf_counter()
        result = train(dataset, TrainConfig(mode="full", **settings), progress=progress)
        wall = time.perf_counter() - start
        epochs = [r for r in progress.history if r.get("stage") == "fine-tune"]
        best = min(progress.history, key=lambda r: r["valid_loss"])  # what training keeps
        row = {"rule": label, "setting": name or "-", "value": value, **settings,
               "accuracy": round(float(result.metrics["accuracy"]), 3),
               "quick_head_accuracy": round(float(progress.history[0]["accuracy"]), 3),
               "best_epoch": best["epoch"], "epochs_run": len(epochs),
               "wall_s": round(wall, 1), "n_valid": int(result.metrics["n"])}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def markdown(decode: list[dict], runs: list[dict]) -> str:
    """The tables as page 03 shows them."""
    lines = []
    if decode:
        lines += ["| decoding one photo | ms | file KB |", "| --- | --- | --- |"]
        lines += [f"| {r['what']} | {r['ms']:.1f} | {r['kb']} |" for r in decode]
    if runs:
        lines += ["", "| changed | value | validation accuracy | best epoch | wall s |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {r['rule']} | {r['value'] if r['value'] is not None else 'baseline'} "
                  f"| {r['accuracy']:.3f} | {r['best_epoch']} | {r['wall_s']} |" for r in runs]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "groceries4"))
    parser.add_argument("--part", choices=["decode", "train", "all"], default="all")
    parser.add_argument("--only", nargs="*", help="training runs to do, e.g. baseline lr=0.001")
    args = parser.parse_args()
    data = Path(args.data)
    decode = decode_part(data) if args.part in ("decode", "all") else []
    runs = train_part(data, args.only) if args.part in ("train", "all") else []
    print(markdown(decode, runs))


if __name__ == "__main__":
    main()
