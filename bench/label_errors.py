"""How well the label-error finder catches labels flipped on purpose.

Five random images of ``../shared/data/groceries4`` get another class's label in memory (no
file is touched or copied); the finder then ranks every image by how little cross-validated
models believe its label.  Repeated for five flip seeds; printed per seed: how many flipped
labels are among the top 10 of the ranking and flagged by cleanlab, recall and precision of
the whole flagged set, and the time (features are cached after the first run).

Run: ``.venv/bin/python bench/label_errors.py``
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from pathlib import Path

from cvlib.data.dataset import Dataset, load_dataset
from cvlib.data.files import Item
from cvlib.training.config import TrainConfig
from cvlib.training.label_errors import out_of_sample_probs, rank_label_issues

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "groceries4"
N_FLIPPED = 5
TOP = 10
SEEDS = range(5)


def flip_labels(dataset: Dataset, n: int, seed: int) -> tuple[Dataset, set[str]]:
    """A copy of ``dataset`` (same files) with ``n`` labels changed to another class."""
    rng = random.Random(seed)
    chosen = rng.sample(range(len(dataset)), n)
    items = list(dataset.items)
    for i in chosen:
        given = items[i].labels[0]
        wrong = rng.choice([c for c in dataset.classes if c != given])
        items[i] = Item(items[i].path, (wrong,))
    return replace(dataset, items=items), {dataset.name_of(items[i].path) for i in chosen}


def main() -> None:
    base = load_dataset(DATA)
    config = TrainConfig(architecture="efficientnet_lite0", image_size=224)
    print(f"dataset: {DATA.name}, {len(base)} images, {N_FLIPPED} labels flipped per seed; "
          "efficientnet_lite0 @224, 5-fold cross-validated quick heads")
    in_top = []
    for seed in SEEDS:
        dataset, flipped = flip_labels(base, N_FLIPPED, seed)
        start = time.perf_counter()
        ranked = rank_label_issues(dataset, out_of_sample_probs(dataset, config))
        seconds = time.perf_counter() - start
        top = {issue.name for issue in ranked[:TOP]}
        flagged_top = {issue.name for issue in ranked[:TOP] if issue.flagged}
        found = flipped & {issue.name for issue in ranked if issue.flagged}
        n_flagged = sum(issue.flagged for issue in ranked)
        in_top.append(len(flipped & flagged_top))
        print(f"seed {seed}: flipped in the top {TOP} and flagged: "
              f"{len(flipped & flagged_top)}/{N_FLIPPED} (in the top {TOP}: "
              f"{len(flipped & top)}); flagged {n_flagged} in all, recall "
              f"{len(found) / N_FLIPPED:.2f}, precision {len(found) / max(1, n_flagged):.2f}; "
              f"{seconds:.1f} s")
    print(f"mean flipped in top {TOP}: {sum(in_top) / len(in_top):.1f}/{N_FLIPPED} "
          f"(seed 0: {in_top[0]}/{N_FLIPPED}); seeds with >= 4: "
          f"{sum(n >= 4 for n in in_top)}/{len(in_top)}")


if __name__ == "__main__":
    main()
