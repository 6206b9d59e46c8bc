"""The health check finds what hurts a model, on datasets built to contain each problem.

The constructed datasets are small copies of the sample photos (``sample_data/fridge4``) in a
temporary folder; the sample data itself is only read.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from cvlib.data.dataset import load_dataset
from cvlib.data.fixes import fixes_for
from cvlib.data.health import check_health
from cvlib.data.splits import split
from tests.samples import FRIDGE4, class_folders
from tests.samples import photos as sample_photos


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """12 photos of cans and 12 of cartons, copied into a folder of their own."""
    return class_folders(tmp_path / "data", {"can": 12, "carton": 12})


def names_of(report, check: str) -> list[list[str]]:
    return [f.items for f in report.of(check)]


def test_a_set_of_distinct_photos_has_no_copies_and_no_leakage():
    report = check_health(load_dataset(FRIDGE4))
    assert not report.of("duplicate") and not report.of("leakage")
    assert not report.of("conflicting_labels") and not report.of("unreadable")
    assert not report.problems


def test_copies_across_the_split_are_leakage_and_same_side_copies_are_duplicates(photos):
    originals = sorted((photos / "can").glob("*.jpg"))[:6]
    for n, photo in enumerate(originals):
        # exact copies for half, re-encoded smaller copies (near-duplicates) for the rest
        target = photos / "can" / f"copy{n}.jpg"
        if n % 2:
            Image.open(photo).resize((150, 150)).save(target, quality=70)
        else:
            shutil.copy(photo, target)
    dataset = load_dataset(photos)
    valid = {dataset.name_of(dataset.items[i].path) for i in split(dataset, 0.2, 42)[1]}
    pairs = [{f"can/{p.name}", f"can/copy{n}.jpg"} for n, p in enumerate(originals)]
    straddling = [pair for pair in pairs if len(pair & valid) == 1]
    assert straddling, "precondition: some copy lands on the other side of the split"

    report = check_health(dataset, valid_pct=0.2, seed=42)

    leaked = [set(items) for items in names_of(report, "leakage")]
    duplicated = [set(items) for items in names_of(report, "duplicate")]
    for pair in pairs:
        expected = leaked if pair in straddling else duplicated
        assert pair in expected, pair
    assert all(f.severity == "problem" for f in report.of("leakage"))


def test_a_relabelled_copy_is_flagged_as_conflicting_labels(photos):
    photo = sorted((photos / "can").glob("*.jpg"))[0]
    shutil.copy(photo, photos / "carton" / "looks_like_a_carton.jpg")

    report = check_health(load_dataset(photos))

    (finding,) = report.of("conflicting_labels")
    assert set(finding.items) == {f"can/{photo.name}", "carton/looks_like_a_carton.jpg"}
    assert "relabel" in finding.fixes and finding.severity == "problem"


def test_unreadable_dark_blurry_tiny_and_small_class_images_are_reported(photos):
    (photos / "can" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    Image.new("RGB", (200, 200), (5, 5, 8)).save(photos / "carton" / "dark.jpg")
    water = sample_photos("water_bottle")
    Image.open(water[0]).filter(ImageFilter.GaussianBlur(6)).save(photos / "carton" / "blur.jpg")
    Image.open(water[1]).resize((40, 30)).save(photos / "carton" / "tiny.jpg")
    Image.open(water[2]).resize((600, 100)).save(photos / "carton" / "wide.jpg")
    (photos / "milk_bottle").mkdir()
    for photo in sample_photos("milk_bottle", 3):
        shutil.copy(photo, photos / "milk_bottle" / photo.name)

    report = check_health(load_dataset(photos))

    assert names_of(report, "unreadable") == [["can/broken.jpg"]]
    assert "carton/dark.jpg" in report.of("dark")[0].items
    assert "carton/blur.jpg" in report.of("blurry")[0].items
    assert report.of("tiny")[0].items == ["carton/tiny.jpg"]
    assert report.of("aspect")[0].items == ["carton/wide.jpg"]
    assert len(report.of("small_class")[0].items) == 3
    assert report.of("imbalance")
    assert report.findings[0].severity == "problem"  # most harmful first


def test_fixes_move_files_and_undo_puts_them_back(photos):
    dataset = load_dataset(photos)
    store = fixes_for(dataset)
    first, second = (dataset.name_of(item.path) for item in dataset.items[:2])

    store.relabel(first, "carton")
    store.drop(second)

    reloaded = load_dataset(photos)
    labels = {reloaded.name_of(item.path): item.labels for item in reloaded.items}
    moved = f"carton/{Path(first).name}"
    assert labels[moved] == ("carton",) and first not in labels and second not in labels
    assert (photos.parent / "_removed" / photos.name / second).is_file()
    assert store.renamed() == {first: moved, second: None}

    store.undo()
    store.undo()
    assert load_dataset(photos).items == dataset.items
    assert store.history() == []


def test_a_fix_named_by_its_action_is_applied_and_undone(tmp_path):
    """Pages apply fixes by action name; an unknown name is a bug, not a silent drop."""
    import pytest
    from PIL import Image

    from cvlib.data.dataset import load_dataset
    from cvlib.data.fixes import fixes_for

    for cls in ("cat", "dog"):
        (tmp_path / "set" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (32, 32), (40 * i, 90, 30)).save(tmp_path / "set" / cls / f"{i}.png")
    store = fixes_for(load_dataset(tmp_path / "set"))
    store.apply("relabel", "cat/0.png", "dog")
    assert (tmp_path / "set" / "dog" / "0.png").is_file()
    store.undo()
    assert (tmp_path / "set" / "cat" / "0.png").is_file()
    with pytest.raises(ValueError, match="unknown fix"):
        store.apply("burn", "cat/1.png")
