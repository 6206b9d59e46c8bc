"""The committed ``sample_data/`` is exactly what ``scripts/make_sample_data.py`` renders.

The sample data is our own (procedurally drawn, no photo data set involved), so it must stay
reproducible: anyone can delete it and get it back with one command. Regenerating everything
takes several seconds; these tests regenerate the single-label and multi-label parts (every
image has its own seeded generator, so parts are independent) and check the layout of the
whole folder. How hard the data is (what the tutorial's presets score on it) is measured by
``bench/sample_data.py``, not here: it needs trained models.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CLASSES = {"can", "carton", "milk_bottle", "water_bottle"}
"""The four classes of the classic fridgeObjects set."""
PER_CLASS = 30
MULTI_COUNT = 60
NEGATIVE_COUNT = 40


@pytest.fixture(scope="module")
def committed(repo_root: Path) -> Path:
    """The ``sample_data/`` folder checked into the repository."""
    return repo_root / "sample_data"


@pytest.fixture(scope="module")
def regenerated(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh render of the single- and multi-label parts with the default seed, through the
    script's CLI."""
    out = tmp_path_factory.mktemp("sample_data")
    subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "make_sample_data.py"), "--out", str(out),
         "--only", "fridge4", "--only", "fridge-multilabel"],
        check=True, cwd=repo_root, timeout=120,
    )
    return out


def relative_files(root: Path) -> list[str]:
    """All files under ``root`` as sorted relative POSIX paths."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def read_labels(csv_path: Path) -> dict[str, list[str]]:
    """``labels.csv`` as {filename: [labels]}."""
    with csv_path.open(newline="", encoding="utf-8") as f:
        return {row["filename"]: row["labels"].split() for row in csv.DictReader(f)}


def pixels(path: Path) -> np.ndarray:
    """Decoded RGB pixels as a signed array, ready to subtract."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.int16)


def assert_same_pixels(a: Path, b: Path) -> None:
    """Same image content. Identical with the same numpy and Pillow on the same CPU; a few
    pixels may move by a level or two on CPUs whose vector math rounds differently."""
    pa, pb = pixels(a), pixels(b)
    assert pa.shape == pb.shape
    off = np.abs(pa - pb) > 2
    assert off.mean() < 0.002, f"{a.name}: {off.mean():.2%} of pixels differ"


def test_regenerating_gives_the_same_files_and_labels(committed: Path, regenerated: Path):
    for part in ("fridge4", "fridge-multilabel"):
        assert relative_files(regenerated / part) == relative_files(committed / part), part
    csv_name = "fridge-multilabel/labels.csv"
    assert (regenerated / csv_name).read_text() == (committed / csv_name).read_text()
    assert (regenerated / "README.md").read_text() == (committed / "README.md").read_text()


@pytest.mark.parametrize("name", ["fridge4/can/can_001.jpg",
                                  "fridge4/milk_bottle/milk_bottle_017.jpg",
                                  "fridge4/water_bottle/water_bottle_030.jpg",
                                  "fridge-multilabel/images/img_0001.jpg",
                                  "fridge-multilabel/images/img_0042.jpg"])
def test_regenerated_pixels_match_the_committed_ones(committed: Path, regenerated: Path,
                                                      name: str):
    assert_same_pixels(regenerated / name, committed / name)


def test_single_label_layout_is_one_folder_per_class(committed: Path):
    root = committed / "fridge4"
    assert {p.name for p in root.iterdir()} == CLASSES
    for cls in CLASSES:
        names = sorted(p.name for p in (root / cls).iterdir())
        assert names == [f"{cls}_{i:03d}.jpg" for i in range(1, PER_CLASS + 1)]


def test_multilabel_csv_labels_every_image_with_known_classes(committed: Path):
    root = committed / "fridge-multilabel"
    assert (root / "labels.csv").read_text().splitlines()[0] == "filename,labels"
    labels = read_labels(root / "labels.csv")
    assert sorted(labels) == sorted(p.name for p in (root / "images").iterdir())
    assert len(labels) == MULTI_COUNT
    for name, row in labels.items():
        assert 1 <= len(row) <= 3, name
        assert len(set(row)) == len(row), f"{name}: repeated label"
        assert set(row) <= CLASSES, f"{name}: unknown label in {row}"
    assert set().union(*labels.values()) == CLASSES


def test_negatives_are_a_flat_folder_of_images(committed: Path):
    names = sorted(p.name for p in (committed / "fridge-negatives").iterdir())
    assert names == [f"neg_{i:04d}.jpg" for i in range(1, NEGATIVE_COUNT + 1)]


def test_images_are_small_224px_rgb_jpegs(committed: Path):
    images = sorted(committed.rglob("*.jpg"))
    assert len(images) == PER_CLASS * len(CLASSES) + MULTI_COUNT + NEGATIVE_COUNT
    for path in images[::17]:
        with Image.open(path) as img:
            assert (img.format, img.mode, img.size) == ("JPEG", "RGB", (224, 224)), path
    total = sum(p.stat().st_size for p in committed.rglob("*") if p.is_file())
    assert total < 2_500_000, f"sample_data grew to {total / 1e6:.1f} MB"


def test_readme_explains_origin_and_real_data(committed: Path):
    text = (committed / "README.md").read_text()
    assert "scripts/make_sample_data.py" in text
    assert "synthetic" in text.lower()
    assert "computervision-recipes" in text
    assert "bench/sample_data.py" in text, "says how hard it is and where that is measured"
