"""How hard the sample data is: the accuracy the tutorial's presets reach on it, over many splits.

    .venv/bin/python bench/sample_data.py [--data sample_data] [--splits 10] [--full]

The sample data is there to teach, so it must behave like real photos: the workshop presets
should land around 80-90 % in quick mode, confuse similar classes, and show a difference
between good and bad settings.  One seeded validation split of 24 photos is too noisy to say
that (one photo is 4 points), so every figure here is a mean over ``--splits`` seeded
stratified splits (seeds 0, 1, ...), each trained exactly as the pages train
(:func:`cvlib.training.train.train`):

- quick mode with the default recipe (Lite2, 260 px), the pages' workshop preset (Lite0,
  224 px; page 03's "fast") and page 03's "small" (Lite0, 160 px), with the most confused
  pair of classes;
- page 11's quick workshop grid (weight decay x label smoothing, Lite0 224 px);
- multi-label quick mode (page 02's workshop preset) on ``fridge-multilabel``;
- with ``--full``: full training of Lite0 at 128 px for 2 epochs at a too small, a good and a
  too large learning rate (2 splits each: minutes on a laptop CPU).

``--data`` is a folder holding ``fridge4`` (and ``fridge-multilabel``), or a single-label set
such as ``../shared/data/groceries4`` for the real-photo comparison.  A temporary studio home
is used (features are cached there for the run), never yours.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

PRESETS = {
    "default (Lite2, 260 px)": {"architecture": "efficientnet_lite2"},
    "workshop / fast (Lite0, 224 px)": {"architecture": "efficientnet_lite0", "image_size": 224},
    "small (Lite0, 160 px)": {"architecture": "efficientnet_lite0", "image_size": 160},
}
GRID = {"weight_decay": [1e-4, 1e-3, 1e-2, 1e-1], "label_smoothing": [0.0, 0.1]}
WORKSHOP = PRESETS["workshop / fast (Lite0, 224 px)"]
FULL = {"architecture": "efficientnet_lite0", "image_size": 128, "epochs": 2}
LEARNING_RATES = (1e-5, 2e-3, 1e-1)


@dataclass
class Runs:
    """One training per seeded split: validation accuracies and losses, and the
    (truth, predicted) mistakes counted over all splits (single-label only)."""

    scores: np.ndarray
    losses: np.ndarray
    mistakes: Counter


def trained(dataset, splits: int, **settings) -> Runs:
    """Train once per seeded split (seeds 0, 1, ...) exactly as the pages do.

    Losses are kept because full training keeps its best epoch by validation loss: the loss
    shows a difference that accuracy on 24 photos may round away."""
    from cvlib.training.config import TrainConfig
    from cvlib.training.train import train

    scores, losses, mistakes = [], [], Counter()
    for seed in range(splits):
        result = train(dataset, TrainConfig(seed=seed, **settings))
        scores.append(result.meta["metrics"]["accuracy"])
        losses.append(result.meta["metrics"]["loss"])
        if not dataset.multi_label:
            predicted = result.valid_probs.argmax(1)
            classes = dataset.classes
            mistakes.update((classes[t], classes[p])
                            for t, p in zip(result.valid_targets, predicted, strict=True)
                            if t != p)
    return Runs(np.array(scores), np.array(losses), mistakes)


def spread(scores: np.ndarray) -> str:
    """Mean ± standard deviation, and the range, as percentages."""
    return (f"{scores.mean():6.1%} ± {scores.std():4.1%}  "
            f"(min {scores.min():.0%}, max {scores.max():.0%})")


def most_confused(mistakes: Counter, top: int = 3) -> str:
    """The commonest mistakes over all splits, as 'truth→predicted ×count'."""
    return ", ".join(f"{t}→{p} ×{n}" for (t, p), n in mistakes.most_common(top)) or "none"


def single_label_root(data: Path) -> Path:
    """The single-label set inside ``data``: its ``fridge4`` folder, or ``data`` itself."""
    return data / "fridge4" if (data / "fridge4").is_dir() else data


def report_presets(dataset, splits: int) -> None:
    """Quick-mode accuracy of each preset over the splits."""
    print(f"quick mode, {splits} seeded splits of {len(dataset)} images "
          f"({len(dataset.classes)} classes):")
    for name, settings in PRESETS.items():
        runs = trained(dataset, splits, mode="quick", **settings)
        print(f"  {name:<32} {spread(runs.scores)}  most confused: {most_confused(runs.mistakes)}")


def report_grid(dataset, splits: int) -> None:
    """Page 11's workshop grid, mean accuracy per cell over the splits."""
    print(f"page 11 workshop grid (quick, Lite0 224 px), mean over {splits} splits:")
    means = {}
    for wd, ls in itertools.product(GRID["weight_decay"], GRID["label_smoothing"]):
        scores = trained(dataset, splits, mode="quick", weight_decay=wd, label_smoothing=ls,
                         **WORKSHOP).scores
        means[wd, ls] = scores.mean()
        print(f"  weight decay {wd:<7g} label smoothing {ls:<4g} {spread(scores)}")
    print(f"  best cell - worst cell: {max(means.values()) - min(means.values()):.1%}")


def report_multilabel(data: Path, splits: int) -> None:
    """Page 02's workshop preset on the multi-label set (exact match = every label right)."""
    from cvlib.data.dataset import load_dataset

    if not (data / "fridge-multilabel").is_dir():
        return
    dataset = load_dataset(data / "fridge-multilabel")
    scores = trained(dataset, splits, mode="quick", **WORKSHOP).scores
    print(f"multi-label quick (Lite0 224 px, strips), {splits} splits of {len(dataset)} images:"
          f"\n  exact match {spread(scores)}")


def report_learning_rates(dataset, splits: int) -> None:
    """Full training at a too small, a good and a too large learning rate."""
    print(f"full mode (Lite0 128 px, {FULL['epochs']} epochs), {splits} splits:")
    for lr in LEARNING_RATES:
        runs = trained(dataset, splits, mode="full", lr=lr, **FULL)
        print(f"  learning rate {lr:<7g} {spread(runs.scores)}  "
              f"valid loss {runs.losses.mean():.3f}")
    quick = trained(dataset, splits, mode="quick", architecture="efficientnet_lite0",
                    image_size=FULL["image_size"])
    print(f"  quick mode at that size, where full training starts: {spread(quick.scores)}  "
          f"valid loss {quick.losses.mean():.3f}")


def main() -> None:
    """Print every figure for the chosen data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "sample_data")
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--full", action="store_true", help="add the full-mode LR contrast")
    parser.add_argument("--full-splits", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("CVLIB_HOME", tempfile.mkdtemp(prefix="bench-sample-data-"))

    from cvlib.data.dataset import load_dataset

    dataset = load_dataset(single_label_root(args.data))
    print(f"data: {single_label_root(args.data)}")
    report_presets(dataset, args.splits)
    report_grid(dataset, args.splits)
    report_multilabel(args.data, args.splits)
    if args.full:
        report_learning_rates(dataset, args.full_splits)
    print(f"CPU threads: {os.cpu_count()}, load average: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
