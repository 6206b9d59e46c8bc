"""The annotation store: labels on disk after every change, undo, resume, import, export.

Each test labels copies of the repository's own sample images in a temporary folder.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from cvlib.data.annotations import (
    EXCLUDED,
    STATE_NAME,
    AnnotationStore,
    clean_class_name,
    read_tutorial_annotations,
    unpack_upload,
)
from cvlib.data.dataset import load_dataset
from cvlib.data.labels_csv import read_labels_csv
from cvlib.errors import DatasetError
from tests.samples import FRIDGE4, FRIDGE_MULTILABEL, REPO, flat_folder
from tests.samples import photos as class_photos

SHELVES = sorted((FRIDGE_MULTILABEL / "images").glob("*.jpg"))
"""The 60 images of the sample multi-label set, without their labels."""


def shelf_folder(folder: Path, images: list[Path]) -> Path:
    """A folder holding copies of ``images`` and nothing else: photos nobody has labelled."""
    folder.mkdir()
    for source in images:
        shutil.copy(source, folder / source.name)
    return folder


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A folder of 12 unlabelled photos (copies of the multi-label set's images)."""
    return shelf_folder(tmp_path / "shelf", SHELVES[:12])


def csv_labels(folder: Path) -> dict[str, tuple[str, ...]]:
    """What labels.csv holds, read by the data loader's own CSV reader."""
    items, problems = read_labels_csv(folder / "labels.csv")
    assert not problems
    return {item.path.name: item.labels for item in items}


def test_every_change_is_in_labels_csv_and_the_folder_trains_as_it_is(photos: Path):
    store = AnnotationStore.open(photos, classes=["milk", "juice"])
    names = store.images[:4]
    store.set_labels(names[0], ["milk"])
    assert csv_labels(photos) == {names[0]: ("milk",)}
    store.set_labels(names[1], ["juice"])
    store.set_labels(names[2], ["milk"])
    store.set_labels(names[3], ["juice"])
    dataset = load_dataset(photos)
    assert dataset.kind == "csv" and dataset.classes == ["juice", "milk"]
    assert [item.path.name for item in dataset.items] == names
    assert not dataset.multi_label and not dataset.problems


def test_reopening_finds_labels_classes_skips_mode_and_position(photos: Path):
    store = AnnotationStore.open(photos, classes=["milk", "juice", "soda"], multi_label=True)
    first, second, third = store.images[:3]
    store.set_labels(first, ["milk", "soda"])
    store.skip(second)
    store.go_to(third)
    again = AnnotationStore.open(photos)
    assert again.classes == ["milk", "juice", "soda"]
    assert again.multi_label
    assert again.labels_of(first) == ("milk", "soda")
    assert again.status(second) == "skipped"
    assert again.resume_at() == third
    assert again.next_todo() == third
    assert again.progress() == (1, 12)


def test_undo_takes_back_changes_in_order_even_after_a_reopen(photos: Path):
    store = AnnotationStore.open(photos, classes=["milk", "juice"], multi_label=True)
    name = store.images[0]
    store.toggle(name, "milk")
    store.toggle(name, "juice")
    store.skip(store.images[1])
    reopened = AnnotationStore.open(photos)
    assert reopened.undo() == store.images[1]
    assert reopened.status(store.images[1]) == "todo"
    assert reopened.undo() == name
    assert csv_labels(photos) == {name: ("milk",)}
    assert reopened.undo() == name
    assert csv_labels(photos) == {}
    assert reopened.undo() is None and not reopened.can_undo()


def test_single_label_mode_takes_one_class_and_toggle_replaces_it(photos: Path):
    store = AnnotationStore.open(photos, classes=["milk", "juice"])
    name = store.images[0]
    store.toggle(name, "milk")
    assert store.toggle(name, "juice") == ("juice",)
    with pytest.raises(DatasetError, match="single-label"):
        store.set_labels(name, ["milk", "juice"])
    store.set_multi_label(True)
    store.set_labels(name, ["milk", "juice"])
    with pytest.raises(DatasetError, match="several labels"):
        store.set_multi_label(False)


def test_a_new_class_can_be_added_on_the_fly_but_not_one_the_csv_would_split():
    assert clean_class_name("  orange-juice ") == "orange-juice"
    for bad in ("orange juice", "a,b", "a;b", "a/b", "", ".hidden"):
        with pytest.raises(DatasetError):
            clean_class_name(bad)


def test_import_from_a_labels_csv_matches_images_by_name_as_one_undo_step(photos: Path):
    store = AnnotationStore.open(photos)
    assert store.import_labels(FRIDGE_MULTILABEL) == 12
    truth = load_dataset(FRIDGE_MULTILABEL)
    expected = {item.path.name: item.labels for item in truth.items
                if (photos / item.path.name).exists()}
    assert csv_labels(photos) == expected
    assert store.multi_label and set(store.classes) == set(truth.classes)
    store.undo()
    assert csv_labels(photos) == {}


def test_import_from_class_folders_and_export_back_to_class_folders(tmp_path: Path):
    folder = flat_folder(tmp_path / "mixed", 3, ["milk_bottle", "water_bottle"])
    originals = {source.name: (label,) for label in ("milk_bottle", "water_bottle")
                 for source in class_photos(label, 3)}
    store = AnnotationStore.open(folder)
    assert store.import_labels(FRIDGE4) == 6
    assert csv_labels(folder) == originals
    copies, links = tmp_path / "copies", tmp_path / "links"
    assert store.export_class_folders(copies) == 6
    assert store.export_class_folders(links, link=True) == 6
    for exported in (copies, links):
        dataset = load_dataset(exported)
        assert dataset.kind == "folder"
        assert {item.path.name: item.labels for item in dataset.items} == originals
    assert all((links / "milk_bottle" / name).is_symlink()
               for name, (label,) in originals.items() if label == "milk_bottle")


def test_export_csv_and_refusals(photos: Path, tmp_path: Path):
    store = AnnotationStore.open(photos, classes=["milk", "juice"], multi_label=True)
    store.set_labels(store.images[0], ["milk", "juice"])
    store.set_labels(store.images[1], ["milk"])
    out = store.export_csv(tmp_path / "out" / "labels.csv")
    assert out.read_text() == (f"filename,labels\n{store.images[0]},juice milk\n"
                               f"{store.images[1]},milk\n")
    with pytest.raises(DatasetError, match="several labels"):
        store.export_class_folders(tmp_path / "per-class")
    with pytest.raises(DatasetError, match="not an image"):
        store.set_labels("missing.jpg", ["milk"])


def test_an_unreadable_labels_csv_is_reported_never_overwritten(photos: Path):
    (photos / "labels.csv").write_text("image;;\nwhatever\n")
    with pytest.raises(DatasetError, match="header"):
        AnnotationStore.open(photos)
    assert (photos / "labels.csv").read_text() == "image;;\nwhatever\n"


def test_a_damaged_state_file_loses_only_the_extras_not_the_labels(photos: Path):
    store = AnnotationStore.open(photos, classes=["milk", "juice"])
    store.set_labels(store.images[0], ["juice"])
    (photos / STATE_NAME).write_text("{not json")
    again = AnnotationStore.open(photos)
    assert again.labels_of(store.images[0]) == ("juice",)
    assert "juice" in again.classes


def test_an_uploaded_zip_is_unpacked_once_into_the_studio_home():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for source in SHELVES[:3]:
            archive.write(source, f"batch/{source.name}")
        archive.writestr("../evil.jpg", b"x")
    folder = unpack_upload(buffer.getvalue())
    assert folder.name == "batch" and len(list(folder.glob("*.jpg"))) == 3
    store = AnnotationStore.open(folder, classes=["milk", "juice"])
    store.set_labels(store.images[0], ["milk"])
    again = unpack_upload(buffer.getvalue())
    assert again == folder
    assert AnnotationStore.open(again).labels_of(store.images[0]) == ("milk",)


CHILD = textwrap.dedent("""
    import sys
    from cvlib.data.annotations import AnnotationStore

    store = AnnotationStore.open(sys.argv[1], classes=["juice", "milk", "soda", "water"])
    for i, name in enumerate(store.images):
        label = store.classes[i % 4]
        store.set_labels(name, [label])
        print(name, label, flush=True)
""")


def test_a_kill_minus_nine_mid_way_loses_no_label_that_was_given(tmp_path: Path):
    # 180 images, so the child is still labelling when the 40th confirmation arrives
    folder = shelf_folder(tmp_path / "many", [*SHELVES, *sorted(FRIDGE4.glob("*/*.jpg"))])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder)], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, text=True)
    given = {}
    for line in child.stdout:
        name, label = line.split()
        given[name] = (label,)
        if len(given) == 40:
            os.kill(child.pid, signal.SIGKILL)
            break
    for line in child.stdout:  # confirmations already in the pipe when the kill landed
        name, label = line.split()
        given[name] = (label,)
    child.wait(timeout=30)
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL, "the child finished before it was killed"
    on_disk = csv_labels(folder)
    assert {name: on_disk.get(name) for name in given} == given
    assert len(on_disk) - len(given) <= 1, "at most the label being written when killed"
    assert AnnotationStore.open(folder).progress()[0] == len(on_disk)


@pytest.fixture
def sample_photos(tmp_path: Path) -> Path:
    """Eight unlabelled images from the repository's own sample data, in one flat folder."""
    return flat_folder(tmp_path / "practice", 2)


def test_an_excluded_image_is_never_trained_on_nor_offered_again(sample_photos: Path):
    store = AnnotationStore.open(sample_photos, classes=["bottle", "can"])
    first, second = store.images[:2]
    store.set_labels(first, ["bottle"])
    store.exclude(first)
    assert store.status(first) == EXCLUDED and store.labels_of(first) == ()
    assert store.next_todo() == second, "an excluded image is not 'to do'"
    store.set_labels(second, ["can"])
    assert csv_labels(sample_photos) == {second: ("can",)}, "not in the CSV: not trained on"

    reopened = AnnotationStore.open(sample_photos)
    assert reopened.excluded() == [first]
    reopened.undo()  # the label of `second`
    reopened.undo()  # the exclusion: its label comes back
    assert reopened.status(first) == "labelled" and reopened.labels_of(first) == ("bottle",)


TUTORIAL_FILE = ("IM_FILENAME\tEXCLUDE\tLABELS\n"
                 "{0}\tFalse\tcan\n"
                 "{1}\tTrue\t\n"
                 "{2}\tFalse\tcan,jar\n"
                 "not_here.jpg\tFalse\tjar\n"
                 "{3}\tmaybe\tcan\n")


def test_the_tutorials_annotation_file_imports_labels_and_exclusions_as_one_step(
        sample_photos: Path, tmp_path: Path):
    store = AnnotationStore.open(sample_photos)
    names = store.images
    source = tmp_path / "cvbp_ic_annotation.txt"
    source.write_text(TUTORIAL_FILE.format(*names))
    assert store.import_labels(source) == 3
    assert store.labels_of(names[0]) == ("can",)
    assert store.excluded() == [names[1]]
    assert store.labels_of(names[2]) == ("can", "jar") and store.multi_label
    assert store.status(names[3]) == "todo", "an unreadable row changes nothing"
    reasons = dict(store.problems)
    assert "not_here.jpg" in reasons and "line 6" in reasons
    store.undo()
    assert store.progress()[0] == 0 and store.excluded() == []


def test_export_to_the_tutorials_format_reads_back_the_same(sample_photos: Path,
                                                           tmp_path: Path):
    store = AnnotationStore.open(sample_photos, multi_label=True)
    names = store.images
    store.set_labels(names[0], ["can", "jar"])
    store.exclude(names[1])
    store.set_labels(names[2], ["bottle"])
    target = store.export_tutorial(tmp_path / "annotations.txt")
    assert target.read_text().splitlines() == [
        "IM_FILENAME\tEXCLUDE\tLABELS", f"{names[0]}\tFalse\tcan,jar", f"{names[1]}\tTrue\t",
        f"{names[2]}\tFalse\tbottle"]
    rows, problems = read_tutorial_annotations(target)
    assert rows == [(names[0], False, ("can", "jar")), (names[1], True, ()),
                    (names[2], False, ("bottle",))] and not problems


def test_a_tutorial_file_with_a_bad_label_imports_nothing_and_says_where(
        sample_photos: Path, tmp_path: Path):
    store = AnnotationStore.open(sample_photos)
    source = tmp_path / "annotations.txt"
    source.write_text(f"IM_FILENAME\tEXCLUDE\tLABELS\n{store.images[0]}\tFalse\tcan\n"
                      f"{store.images[1]}\tFalse\torange juice\n")
    with pytest.raises(DatasetError, match=r"line 3.*cannot hold spaces"):
        store.import_labels(source)
    assert store.progress()[0] == 0 and not (sample_photos / "labels.csv").exists()
    source.write_text("filename\texclude\n")
    with pytest.raises(DatasetError, match="header"):
        read_tutorial_annotations(source)
