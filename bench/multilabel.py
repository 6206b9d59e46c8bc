"""Multi-label accuracy on real photos: whole image against region pooling (strips).

Trains the quick mode on ``../shared/data/groceries4-multilabel`` (120 shop photos, 1 to 3
products side by side) for two backbones, both region layouts and five seeded splits
(23 validation photos each), and prints exact-match and hamming accuracy at 0.5, at the
tuned global threshold and with per-class thresholds: seed 42 (the tests' split) and the
mean over the seeds, then strips over whole as a ratio.  Features are cached, so only the
first run of each backbone and layout pays for the backbone.

Run: ``.venv/bin/python bench/multilabel.py`` (``--backbone``, ``--regions`` to run one of
them; ``--weight-decay`` to compare the quick head's weight decay with the default)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from cvlib.data.dataset import load_dataset
from cvlib.evaluation.thresholds import tune
from cvlib.runtime.progress import Progress
from cvlib.training.config import TrainConfig
from cvlib.training.train import train

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "groceries4-multilabel"
BACKBONES = (("efficientnet_lite0", 224), ("efficientnet_lite2", 260))
SEEDS = (42, 0, 1, 2, 3)
COLUMNS = ("exact@0.5", "hamming@0.5", "exact tuned", "hamming tuned", "exact per-class",
           "hamming per-class")


def scores_for(dataset, architecture: str, size: int, regions: str, seed: int,
               weight_decay: float = TrainConfig.weight_decay) -> list[float]:
    """The six figures of one seeded run."""
    config = TrainConfig(mode="quick", architecture=architecture, image_size=size,
                         regions=regions, seed=seed, weight_decay=weight_decay)
    result = train(dataset, config, progress=Progress())
    choice = tune(result.valid_probs, result.valid_targets, dataset.classes)
    row = []
    for got in (choice.scores_at_default, choice.scores_global, choice.scores_per_class):
        row += [got["exact_match"], got["hamming_accuracy"]]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", choices=[name for name, _ in BACKBONES])
    parser.add_argument("--regions", choices=["whole", "strips"])
    parser.add_argument("--weight-decay", type=float, default=TrainConfig.weight_decay)
    args = parser.parse_args()
    dataset = load_dataset(DATA)
    print(f"{DATA.name}: {len(dataset)} images, seeds {SEEDS} (validation 20%), "
          f"weight decay {args.weight_decay:g}")
    print(f"{'backbone':>20} {'regions':>7} {'':>8} " + " ".join(f"{c:>17}" for c in COLUMNS))
    means = {}
    for architecture, size in BACKBONES:
        for regions in ("whole", "strips"):
            if args.backbone not in (None, architecture) or args.regions not in (None, regions):
                continue
            start = time.perf_counter()
            rows = np.array([scores_for(dataset, architecture, size, regions, seed,
                                        args.weight_decay) for seed in SEEDS])
            means[architecture, regions] = rows.mean(0)
            for label, values in (("seed 42", rows[0]), ("mean", rows.mean(0))):
                print(f"{architecture:>20} {regions:>7} {label:>8} "
                      + " ".join(f"{v:17.3f}" for v in values))
            print(f"{'':>38}({time.perf_counter() - start:.0f} s for {len(SEEDS)} runs)")
    for architecture, _ in BACKBONES:
        if (architecture, "whole") not in means or (architecture, "strips") not in means:
            continue
        ratio = means[architecture, "strips"] / means[architecture, "whole"]
        print(f"{architecture}: strips / whole (mean) " + " ".join(f"{v:.2f}x" for v in ratio))


if __name__ == "__main__":
    main()
