"""How well the label-error finder catches labels flipped on purpose.

Five images of ``../shared/data/groceries4`` (one or two per class) get another class's label
in memory (no file is touched or copied); the finder then ranks every image by how little
cross-validated models believe its label.  Printed: how many flipped labels are among the top
10 flagged, precision and recall of the flagged set, and the time (features cached after the
first run).

Run: ``.venv/bin/python bench/label_errors.py``
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cvlib.data import Dataset, Item, load_dataset  # noqa: E402
from cvlib.label_errors import out_of_sample_probs, rank_label_issues  # noqa: E402
from cvlib.train_config import TrainConfig  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "groceries4"
N_FLIPPED = 5
TOP = 10
SEED = 0


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
    dataset, flipped = flip_labels(load_dataset(DATA), N_FLIPPED, SEED)
    config = TrainConfig(architecture="efficientnet_lite0", image_size=224)
    start = time.perf_counter()
    ranked = rank_label_issues(dataset, out_of_sample_probs(dataset, config))
    seconds = time.perf_counter() - start
    flagged = [issue for issue in ranked if issue.flagged]
    top = [issue.name for issue in flagged[:TOP]]
    caught = flipped & set(top)
    all_caught = flipped & {issue.name for issue in flagged}
    print(f"dataset: {DATA.name}, {len(dataset)} images, {N_FLIPPED} labels flipped "
          f"(seed {SEED}), efficientnet_lite0 @224, 5-fold cross-validated quick heads")
    print(f"flipped labels in the top {TOP} flagged: {len(caught)}/{N_FLIPPED}")
    print(f"flagged in all: {len(flagged)}; recall {len(all_caught) / N_FLIPPED:.2f}, "
          f"precision {len(all_caught) / max(1, len(flagged)):.2f}")
    print(f"top {TOP}: " + ", ".join(f"{n}{' *' if n in flipped else ''}" for n in top))
    print(f"time: {seconds:.1f} s (features cached after the first run)")


if __name__ == "__main__":
    main()
