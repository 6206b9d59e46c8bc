"""The repository's own sample data, as the tests use it: every behaviour test runs on it.

``sample_data/`` is rendered by ``scripts/make_sample_data.py`` and committed, so a fresh clone
has it: ``fridge4`` (4 classes, 30 photos each, 224x224), ``fridge-multilabel`` (60 shelves
of 1 to 3 products, ``labels.csv``) and ``fridge-negatives`` (40 other kitchen things).
Only tests of accuracy on real photos use ``../shared/data`` (``tests/conftest.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cvlib.training.config import TrainConfig

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO / "sample_data"
FRIDGE4 = SAMPLE_DATA / "fridge4"
FRIDGE_MULTILABEL = SAMPLE_DATA / "fridge-multilabel"
FRIDGE_NEGATIVES = SAMPLE_DATA / "fridge-negatives"
CLASSES = ["can", "carton", "milk_bottle", "water_bottle"]
"""fridge4's classes, in the order the loader lists them."""

QUICK = TrainConfig(mode="quick", architecture="efficientnet_lite0", image_size=128)
"""How ``sample_model_dir`` is trained: quick Lite0 at 128 px (seconds; features cached).

Tests that train on ``fridge4`` themselves use it too, so they hit the same feature cache.
"""


def photos(name: str, n: int | None = None, root: Path = FRIDGE4) -> list[Path]:
    """The first ``n`` photos (all by default) of class ``name``, sorted by file name."""
    return sorted((root / name).glob("*.jpg"))[:n]


def class_folders(dest: Path, counts: dict[str, int], root: Path = FRIDGE4) -> Path:
    """A folder-per-class dataset at ``dest`` with copies of ``counts[name]`` photos a class."""
    for name, n in counts.items():
        (dest / name).mkdir(parents=True)
        for photo in photos(name, n, root):
            shutil.copy(photo, dest / name / photo.name)
    return dest


def flat_folder(dest: Path, per_class: int, classes: list[str] = CLASSES) -> Path:
    """``per_class`` photos of each class copied into one unlabelled folder, class by class."""
    dest.mkdir(parents=True)
    for name in classes:
        for photo in photos(name, per_class):
            shutil.copy(photo, dest / photo.name)
    return dest
