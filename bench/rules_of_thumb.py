"""The training rules of thumb on page 03, measured on this machine.

Full training (fine-tuning the whole network) of EfficientNet-Lite0 on the data's seeded
split, one setting changed at a time from a baseline (160 px, 3 epochs, batch 16, learning
rate 2e-4): validation accuracy, the quick head's accuracy (where full training starts), the
best epoch and the wall time per run, one JSON line each and a Markdown table at the end.
Page 03's other table, what decoding a photo costs, comes from ``bench/image_decode.py``.

Usage (``--data`` defaults to the sample data; page 03's figures are for groceries4)::

    nice -n 10 .venv/bin/python bench/rules_of_thumb.py --data ../shared/data/groceries4
    nice -n 10 .venv/bin/python bench/rules_of_thumb.py --only baseline epochs=6
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

BASELINE = {"architecture": "efficientnet_lite0", "image_size": 160, "epochs": 3,
            "batch_size": 16, "lr": 2e-4}
VARIANTS = [("learning rate", "lr", [1e-5, 1e-3, 1e-2]),
            ("epochs", "epochs", [1, 6]),
            ("batch size", "batch_size", [8, 32]),
            ("image size", "image_size", [128, 224])]


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


def markdown(runs: list[dict]) -> str:
    """The table as page 03 shows it."""
    lines = ["| changed | value | validation accuracy | best epoch | wall s |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['rule']} | {r['value'] if r['value'] is not None else 'baseline'} "
              f"| {r['accuracy']:.3f} | {r['best_epoch']} | {r['wall_s']} |" for r in runs]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO / "sample_data" / "fridge4"),
                        help="a folder of photos, one subfolder per class")
    parser.add_argument("--only", nargs="*", help="training runs to do, e.g. baseline lr=0.001")
    args = parser.parse_args()
    print(markdown(train_part(Path(args.data), args.only)))


if __name__ == "__main__":
    main()
