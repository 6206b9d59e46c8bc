"""Datasets: the three documented layouts load, odd rows and files are reported rather than
fatal, splits are stratified and reproducible, summaries find unreadable images, and the
fingerprint names the data by content.

The data is the repository's own ``sample_data/``; odd layouts are built in ``tmp_path`` from
copies of a few of its photos, and broken files are generated.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from cvlib.data.dataset import Dataset, DatasetSummary, fingerprint, load_dataset, summarize
from cvlib.data.files import Item
from cvlib.data.splits import split
from cvlib.errors import ArchiveError, DatasetError
from cvlib.storage.home import studio_home
from tests.samples import CLASSES, FRIDGE4, FRIDGE_MULTILABEL, class_folders, photos


@pytest.fixture(autouse=True)
def scratch_home(tmp_path, monkeypatch) -> Path:
    """Keep zip caches (and anything else under the studio home) inside ``tmp_path``."""
    home = tmp_path / "studio-home"
    monkeypatch.setenv("CVLIB_HOME", str(home))
    return home


def csv_dataset(root: Path, text: str, encoding: str = "utf-8") -> Path:
    """``root/labels.csv`` holding ``text``, with can and carton photos 0-2 as ``can0.jpg``,
    ``carton0.jpg``... in ``root/images``."""
    (root / "images").mkdir(parents=True)
    for name in ("can", "carton"):
        for k, photo in enumerate(photos(name, 3)):
            shutil.copy(photo, root / "images" / f"{name}{k}.jpg")
    (root / "labels.csv").write_bytes(text.encode(encoding))
    return root


def zipped(folder: Path, prefix: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    """``folder``'s files in a zip, under ``prefix``, plus ``extra`` entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def names(dataset: Dataset, indices=None) -> list[str]:
    """Relative names of the items (at ``indices``)."""
    chosen = range(len(dataset)) if indices is None else indices
    return [dataset.name_of(dataset.items[i].path) for i in chosen]


def label_counts(dataset: Dataset, indices) -> Counter:
    """Images per label among ``indices``."""
    return Counter(label for i in indices for label in dataset.items[i].labels)


class TestFolderPerClass:
    def test_the_sample_set_loads_every_photo_under_its_class(self):
        ds = load_dataset(FRIDGE4)
        assert (ds.classes, len(ds), ds.multi_label, ds.kind) == (CLASSES, 120, False, "folder")
        assert ds.root == FRIDGE4.resolve() and ds.problems == []
        assert np.bincount(ds.targets()).tolist() == [30, 30, 30, 30]
        assert ds.counts() == dict.fromkeys(CLASSES, 30)
        assert ds.labels_matrix().shape == (120, 4)
        assert (ds.labels_matrix().sum(axis=1) == 1).all()
        assert names(ds) == sorted(names(ds)) and names(ds)[0].startswith("can/")

    def test_items_are_path_and_label_tuples(self):
        path, labels = load_dataset(str(FRIDGE4)).items[0]
        assert isinstance(path, Path) and path.is_file() and labels == ("can",)

    def test_other_files_are_ignored_and_odd_layouts_reported(self, tmp_path):
        root = class_folders(tmp_path / "data", {"can": 2, "carton": 2})
        (root / "can" / "notes.txt").write_text("bought on Monday")
        (root / "can" / ".DS_Store").write_bytes(b"junk")
        (root / "carton" / "._IMG.jpg").write_bytes(b"macOS metadata")
        (root / "carton" / "older").mkdir()
        shutil.copy(photos("carton")[5], root / "carton" / "older" / "c.jpg")
        (root / "empty").mkdir()
        shutil.copy(photos("milk_bottle")[0], root / "stray.jpg")
        ds = load_dataset(root)
        assert ds.classes == ["can", "carton"]
        assert ds.counts() == {"can": 2, "carton": 3}
        assert "carton/older/c.jpg" in names(ds)
        assert ds.problems == [("empty/", "folder has no images (ignored)"),
                               ("stray.jpg", "not in a class folder (ignored)")]

    def test_broken_images_are_listed_not_decoded(self, tmp_path):
        root = class_folders(tmp_path / "data", {"can": 2, "carton": 2})
        (root / "carton" / "empty.jpg").write_bytes(b"")
        assert load_dataset(root).counts() == {"can": 2, "carton": 3}

    def test_a_wrapper_folder_is_stepped_into(self, tmp_path):
        class_folders(tmp_path / "outer" / "fridge", {"can": 2, "milk_bottle": 2})
        ds = load_dataset(tmp_path / "outer")
        assert ds.root == (tmp_path / "outer" / "fridge").resolve()
        assert ds.classes == ["can", "milk_bottle"]

    def test_one_class_is_refused(self, tmp_path):
        root = class_folders(tmp_path / "data", {"can": 3})
        with pytest.raises(DatasetError, match=re.escape("only one class found ('can')")) as info:
            load_dataset(root)
        assert "needs at least two classes to learn to tell apart" in str(info.value)

    def test_missing_path(self, tmp_path):
        with pytest.raises(DatasetError, match="nowhere does not exist"):
            load_dataset(tmp_path / "nowhere")

    def test_no_images(self, tmp_path):
        (tmp_path / "data" / "juice").mkdir(parents=True)
        (tmp_path / "data" / "juice" / "readme.txt").write_text("hi")
        (tmp_path / "data" / "milk").mkdir()
        with pytest.raises(DatasetError, match=r"no images found in .*data"):
            load_dataset(tmp_path / "data")

    def test_flat_folder_of_images_explains_the_layout(self):
        with pytest.raises(DatasetError, match=r"found 30 images directly in .* no class "
                                               r"folders: put each class's images"):
            load_dataset(FRIDGE4 / "milk_bottle")

    def test_a_file_that_is_not_a_dataset(self, tmp_path):
        (tmp_path / "photo.txt").write_text("x")
        with pytest.raises(DatasetError, match=re.escape("photo.txt is not a dataset")):
            load_dataset(tmp_path / "photo.txt")

    def test_force_multi_label_on_folders(self):
        ds = load_dataset(FRIDGE4, force_multi_label=True)
        assert ds.multi_label and ds.kind == "folder"


class TestLabelsCsv:
    def test_the_sample_multi_label_set(self):
        ds = load_dataset(FRIDGE_MULTILABEL)
        assert (len(ds), ds.multi_label, ds.kind, ds.classes) == (60, True, "csv", CLASSES)
        assert ds.problems == []
        assert ds.items[2] == Item((FRIDGE_MULTILABEL / "images" / "img_0003.jpg").resolve(),
                                   ("can", "carton", "water_bottle"))
        assert ds.labels_matrix().sum(axis=1).max() == 3
        assert (ds.targets() == ds.labels_matrix()).all()
        assert ds.targets([2]).tolist() == [[1.0, 1.0, 0.0, 1.0]]

    def test_the_csv_file_itself_can_be_given(self):
        assert len(load_dataset(FRIDGE_MULTILABEL / "labels.csv")) == 60

    def test_single_label_csv_and_the_override(self, tmp_path):
        root = csv_dataset(tmp_path / "d",
                           "filename,labels\ncan0.jpg,can\ncan1.jpg,can\ncarton0.jpg,carton\n")
        ds = load_dataset(root)
        assert (ds.kind, ds.multi_label, ds.classes) == ("csv", False, ["can", "carton"])
        assert load_dataset(root, force_multi_label=True).multi_label

    def test_multi_label_rows_cannot_be_forced_single(self):
        with pytest.raises(DatasetError, match="several labels"):
            load_dataset(FRIDGE_MULTILABEL, force_multi_label=False)

    def test_bom_semicolons_and_other_header_words(self, tmp_path):
        text = "\ufeffImage;Tags\ncan0.jpg;can\ncarton0.jpg;carton can\n"
        ds = load_dataset(csv_dataset(tmp_path / "d", text))
        assert [item.labels for item in ds.items] == [("can",), ("can", "carton")]
        assert ds.multi_label and ds.problems == []

    def test_tabs_and_comma_separated_labels_in_quotes(self, tmp_path):
        text = 'file\tlabel\ncan0.jpg\t"can,carton"\ncarton1.jpg\tcarton\n'
        ds = load_dataset(csv_dataset(tmp_path / "d", text))
        assert [item.labels for item in ds.items] == [("can", "carton"), ("carton",)]

    def test_latin1_file_from_old_spreadsheets(self, tmp_path):
        text = "filename,labels\ncan0.jpg,café\ncarton0.jpg,carton\n"
        ds = load_dataset(csv_dataset(tmp_path / "d", text, encoding="latin-1"))
        assert ds.classes == ["café", "carton"]

    def test_bad_rows_are_reported_and_skipped(self, tmp_path):
        text = ("filename,labels\n"
                "can0.jpg,can\n"
                "gone.jpg,carton\n"
                "can1.jpg,\n"
                "carton0.jpg,carton\n"
                "carton0.jpg,carton\n"
                "carton1.jpg,carton\n"
                "carton1.jpg,can\n"
                "../../secret.jpg,carton\n"
                "notes.txt,carton\n"
                "\n"
                ",carton\n")
        ds = load_dataset(csv_dataset(tmp_path / "d", text))
        assert names(ds) == ["images/can0.jpg", "images/carton0.jpg", "images/carton1.jpg"]
        assert [item.labels for item in ds.items] == [("can",), ("carton",), ("carton",)]
        assert ds.problems == [
            ("gone.jpg", "listed in labels.csv line 3 but the file is missing (row skipped)"),
            ("can1.jpg", "labels.csv line 4 has no labels (row skipped)"),
            ("carton0.jpg", "listed twice in labels.csv (lines 5 and 6; kept once)"),
            ("carton1.jpg", "listed again in labels.csv line 8 with different labels "
                            "(line 7 kept)"),
            ("../../secret.jpg",
             "labels.csv line 9 points outside the dataset folder (row skipped)"),
            ("notes.txt", "labels.csv line 10 is not an image file name (row skipped)"),
            ("labels.csv line 12", "labels.csv line 12 has no file name (row skipped)"),
        ]

    def test_images_beside_the_csv(self, tmp_path):
        shutil.copy(photos("can")[0], tmp_path / "a.jpg")
        shutil.copy(photos("carton")[0], tmp_path / "b.jpg")
        (tmp_path / "labels.csv").write_text("filename,labels\na.jpg,can\nb.jpg,carton\n")
        assert load_dataset(tmp_path).classes == ["can", "carton"]

    def test_a_header_is_required(self, tmp_path):
        root = csv_dataset(tmp_path / "d", "can0.jpg,can\ncarton0.jpg,carton\n")
        expected = "labels.csv: the first line must be a header"
        with pytest.raises(DatasetError, match=re.escape(expected)):
            load_dataset(root)

    def test_nothing_usable(self, tmp_path):
        root = csv_dataset(tmp_path / "d", "filename,labels\ngone.jpg,milk\n")
        expected = "labels.csv lists no usable images (gone.jpg: listed in labels.csv line 2"
        with pytest.raises(DatasetError, match=re.escape(expected)):
            load_dataset(root)


class TestZip:
    def test_zip_of_a_folder_is_unpacked_into_the_cache_and_reused(
            self, tmp_path, scratch_home):
        source = class_folders(tmp_path / "src", {"can": 3, "carton": 3})
        upload = tmp_path / "dataset.zip"
        upload.write_bytes(zipped(source, "mydata/", {"__MACOSX/mydata/._x.jpg": b"junk",
                                                      "../evil.jpg": b"x"}))
        ds = load_dataset(upload)
        assert ds.root.parent.parent == (scratch_home / "datasets").resolve()
        assert ds.root.name == "mydata"
        assert ds.counts() == {"can": 3, "carton": 3}
        assert ds.problems == [("../evil.jpg", "path escapes the archive ('..')")]
        again = load_dataset(upload)
        assert (again.root, again.items, again.problems) == (ds.root, ds.items, ds.problems)
        assert fingerprint(again) == fingerprint(load_dataset(source))

    def test_extract_to(self, tmp_path):
        upload = tmp_path / "ml.zip"
        upload.write_bytes(zipped(FRIDGE_MULTILABEL))
        ds = load_dataset(upload, extract_to=tmp_path / "unpacked")
        assert (ds.root, len(ds), ds.multi_label) == ((tmp_path / "unpacked").resolve(), 60, True)

    def test_hostile_zip_is_refused(self, tmp_path, scratch_home):
        upload = tmp_path / "bomb.zip"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("juice/zeros.jpg", bytes(20 * 1024**2))
        upload.write_bytes(buffer.getvalue())
        with pytest.raises(ArchiveError, match="zip bomb"):
            load_dataset(upload)
        assert [path for path in scratch_home.rglob("*") if path.is_file()] == []


class TestSplit:
    def test_stratified_and_deterministic(self):
        ds = load_dataset(FRIDGE4)
        train, valid = split(ds)
        assert (len(train), len(valid)) == (96, 24)
        assert label_counts(ds, valid) == dict.fromkeys(CLASSES, 6)
        assert sorted(train + valid) == list(range(120))
        assert split(ds) == (train, valid)
        assert split(ds, seed=7)[1] != valid

    def test_independent_of_listing_order(self):
        ds = load_dataset(FRIDGE4)
        shuffled = ds.subset(np.random.default_rng(0).permutation(len(ds)).tolist())
        assert set(names(shuffled, split(shuffled)[1])) == set(names(ds, split(ds)[1]))

    def test_adding_a_class_does_not_reshuffle_the_others(self):
        ds = load_dataset(FRIDGE4)
        without_water = ds.subset(i for i, item in enumerate(ds.items)
                                  if item.labels != ("water_bottle",))
        kept = set(names(without_water, split(without_water)[1]))
        assert kept == {name for name in names(ds, split(ds)[1]) if not name.startswith("water")}

    def test_multi_label_set_puts_each_label_near_its_share(self):
        ds = load_dataset(FRIDGE_MULTILABEL)
        train, valid = split(ds)
        totals, in_valid = ds.counts(), label_counts(ds, valid)
        for name in CLASSES:
            assert abs(in_valid[name] - 0.2 * totals[name]) <= 2, (name, in_valid[name])
        assert label_counts(ds, train).keys() == set(CLASSES)
        assert split(ds) == (train, valid)

    def test_multi_label_labels_land_on_both_sides_even_when_greedy_fails(self):
        root = Path("/data")
        tags = [("can", "carton", "milk_bottle"), ("milk_bottle", "water_bottle"),
                ("carton", "water_bottle"), ("can", "carton")]
        ds = Dataset(root, [Item(root / f"{k}.jpg", t) for k, t in enumerate(tags)], CLASSES,
                     True, "csv")
        train, valid = split(ds)
        for name in CLASSES:
            assert label_counts(ds, train)[name] >= 1 and label_counts(ds, valid)[name] >= 1

    def test_small_classes_get_one_image_on_each_side(self, tmp_path):
        ds = load_dataset(class_folders(tmp_path / "d", {"can": 2, "carton": 5}))
        train, valid = split(ds)
        assert label_counts(ds, valid) == {"can": 1, "carton": 1}
        assert label_counts(ds, train) == {"can": 1, "carton": 4}

    def test_a_class_with_one_image_cannot_be_split(self, tmp_path):
        ds = load_dataset(class_folders(tmp_path / "d", {"can": 1, "carton": 5}))
        with pytest.raises(DatasetError,
                           match=r"each class needs at least 2 images.*'can' has 1"):
            split(ds)

    def test_valid_pct_must_be_a_fraction(self):
        with pytest.raises(ValueError, match="valid_pct"):
            split(load_dataset(FRIDGE4), valid_pct=20)


class TestSummarize:
    def test_a_clean_set_has_its_counts_and_sizes_and_nothing_to_warn_about(self):
        summary = summarize(load_dataset(FRIDGE4))
        assert isinstance(summary, DatasetSummary)
        assert (summary.classes, summary.n_images) == (CLASSES, 120)
        assert summary.counts == dict.fromkeys(CLASSES, 30)
        assert summary.size_stats == {axis: {"min": 224, "median": 224, "max": 224}
                                      for axis in ("width", "height")}
        assert len(summary.sizes) == 120
        assert (summary.unreadable, summary.warnings) == ([], [])

    def test_multi_label_counts_each_label(self):
        summary = summarize(load_dataset(FRIDGE_MULTILABEL), check_images=False)
        assert summary.multi_label and summary.n_images == 60
        assert summary.counts == {"can": 31, "carton": 33, "milk_bottle": 39,
                                  "water_bottle": 29}

    def test_unreadable_files_are_listed_with_reasons(self, tmp_path):
        root = class_folders(tmp_path / "d", {"can": 10, "carton": 10})
        data = photos("carton")[11].read_bytes()
        (root / "carton" / "cut.jpg").write_bytes(data[: len(data) // 2])
        (root / "carton" / "empty.jpg").write_bytes(b"")
        (root / "can" / "list.png").write_text("not a picture")
        ds = load_dataset(root)
        summary = summarize(ds)
        assert summary.unreadable == [("can/list.png", "not an image (unrecognised format)"),
                                      ("carton/cut.jpg", "truncated or corrupt image data"),
                                      ("carton/empty.jpg", "empty file (0 bytes)")]
        assert len(summary.sizes) == 20
        assert summary.warnings == ["3 file(s) cannot be read; fix or remove them before "
                                    "training."]
        headers_only = summarize(ds, check_images=False)
        assert [name for name, _ in headers_only.unreadable] == ["can/list.png",
                                                                 "carton/empty.jpg"]

    def test_warns_about_few_images_and_imbalance(self, tmp_path):
        ds = load_dataset(class_folders(tmp_path / "d", {"can": 13, "carton": 3}))
        assert summarize(ds).warnings == [
            "Class 'carton' has only 3 images; aim for at least 10 per class (more is better).",
            "Classes are imbalanced: 'can' has 13 images but 'carton' only 3 (4x). The model "
            "may favour 'can'; add photos of 'carton' if you can.",
        ]

    def test_warns_about_a_single_class(self):
        ds = load_dataset(FRIDGE4)
        can_only = ds.subset(range(30))
        can_only.classes = ["can"]
        assert summarize(can_only, check_images=False).warnings == [
            "Only one class (can): a classifier needs at least two classes to learn to "
            "tell apart."]


class TestFingerprint:
    def test_same_content_elsewhere_same_fingerprint(self, tmp_path):
        first = class_folders(tmp_path / "a", {"can": 3, "carton": 3})
        second = tmp_path / "b"
        shutil.copytree(first, second)
        os.utime(second / "can" / photos("can")[0].name, (0, 0))
        assert fingerprint(load_dataset(first)) == fingerprint(load_dataset(second))

    def test_changes_with_content_labels_or_files(self, tmp_path):
        root = class_folders(tmp_path / "a", {"can": 3, "carton": 3})
        before = fingerprint(load_dataset(root))
        target = root / "carton" / photos("carton")[0].name
        target.write_bytes(target.read_bytes() + b"\0")
        edited = fingerprint(load_dataset(root))
        assert edited != before
        (root / "carton").rename(root / "box")
        assert fingerprint(load_dataset(root)) not in (before, edited)

    def test_a_whole_set_is_named_by_64_hex_digits_that_change_with_one_photo_less(self):
        ds = load_dataset(FRIDGE4)
        value = fingerprint(ds)
        assert len(value) == 64 and value == fingerprint(load_dataset(FRIDGE4))
        assert fingerprint(ds.subset(range(119))) != value

    def test_a_file_removed_after_loading(self, tmp_path):
        ds = load_dataset(class_folders(tmp_path / "a", {"can": 2, "carton": 2}))
        ds.items[0].path.unlink()
        with pytest.raises(DatasetError, match="cannot be read any more"):
            fingerprint(ds)


def test_studio_home_from_the_environment_or_the_user_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CVLIB_HOME", str(tmp_path / "custom"))
    assert studio_home() == tmp_path / "custom" and (tmp_path / "custom").is_dir()
    monkeypatch.delenv("CVLIB_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert studio_home() == tmp_path / "user" / ".cvlib-studio"
