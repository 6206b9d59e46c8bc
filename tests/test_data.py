"""Datasets: the three documented layouts load, odd rows and files are reported rather than
fatal, splits are stratified and reproducible, summaries find unreadable images, and the
fingerprint names the data by content.

Real photos come from ``../shared/data``; odd layouts are built in ``tmp_path`` from copies
of a few of them, and broken files are generated.
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

CLASSES = ["juice", "milk", "soda", "water"]


@pytest.fixture(autouse=True)
def scratch_home(tmp_path, monkeypatch) -> Path:
    """Keep zip caches (and anything else under the studio home) inside ``tmp_path``."""
    home = tmp_path / "studio-home"
    monkeypatch.setenv("CVLIB_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def multilabel(shared_data: Path) -> Path:
    """120 real photos of 1 to 3 products, labelled in ``labels.csv``."""
    return shared_data / "groceries4-multilabel"


@pytest.fixture(scope="session")
def photos(groceries4: Path) -> dict[str, list[Path]]:
    """The real photos of each class, sorted."""
    return {name: sorted((groceries4 / name).glob("*.jpg")) for name in CLASSES}


def class_folders(root: Path, photos: dict[str, list[Path]], counts: dict[str, int]) -> Path:
    """A folder-per-class dataset at ``root`` with ``counts[name]`` real photos per class."""
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for photo in photos[name][:n]:
            shutil.copy(photo, root / name / photo.name)
    return root


def csv_dataset(root: Path, photos: dict[str, list[Path]], text: str,
                encoding: str = "utf-8") -> Path:
    """``root/labels.csv`` holding ``text``, with juice/milk photos 0-2 as ``j0.jpg``...

    The images go in ``root/images``.
    """
    (root / "images").mkdir(parents=True)
    for name in ("juice", "milk"):
        for k, photo in enumerate(photos[name][:3]):
            shutil.copy(photo, root / "images" / f"{name[0]}{k}.jpg")
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
    def test_groceries4(self, groceries4):
        ds = load_dataset(groceries4)
        assert (ds.classes, len(ds), ds.multi_label, ds.kind) == (CLASSES, 160, False, "folder")
        assert ds.root == groceries4.resolve() and ds.problems == []
        assert np.bincount(ds.targets()).tolist() == [40, 40, 40, 40]
        assert ds.counts() == dict.fromkeys(CLASSES, 40)
        assert ds.labels_matrix().shape == (160, 4)
        assert (ds.labels_matrix().sum(axis=1) == 1).all()
        assert names(ds) == sorted(names(ds)) and names(ds)[0].startswith("juice/")

    def test_items_are_path_and_label_tuples(self, groceries4):
        path, labels = load_dataset(str(groceries4)).items[0]
        assert isinstance(path, Path) and path.is_file() and labels == ("juice",)

    def test_other_files_are_ignored_and_odd_layouts_reported(self, tmp_path, photos):
        root = class_folders(tmp_path / "data", photos, {"juice": 2, "milk": 2})
        (root / "juice" / "notes.txt").write_text("bought on Monday")
        (root / "juice" / ".DS_Store").write_bytes(b"junk")
        (root / "milk" / "._IMG.jpg").write_bytes(b"macOS metadata")
        (root / "milk" / "older").mkdir()
        shutil.copy(photos["milk"][5], root / "milk" / "older" / "m.jpg")
        (root / "empty").mkdir()
        shutil.copy(photos["soda"][0], root / "stray.jpg")
        ds = load_dataset(root)
        assert ds.classes == ["juice", "milk"]
        assert ds.counts() == {"juice": 2, "milk": 3}
        assert "milk/older/m.jpg" in names(ds)
        assert ds.problems == [("empty/", "folder has no images (ignored)"),
                               ("stray.jpg", "not in a class folder (ignored)")]

    def test_broken_images_are_listed_not_decoded(self, tmp_path, photos):
        root = class_folders(tmp_path / "data", photos, {"juice": 2, "milk": 2})
        (root / "milk" / "empty.jpg").write_bytes(b"")
        assert load_dataset(root).counts() == {"juice": 2, "milk": 3}

    def test_a_wrapper_folder_is_stepped_into(self, tmp_path, photos):
        class_folders(tmp_path / "outer" / "groceries", photos, {"juice": 2, "soda": 2})
        ds = load_dataset(tmp_path / "outer")
        assert ds.root == (tmp_path / "outer" / "groceries").resolve()
        assert ds.classes == ["juice", "soda"]

    def test_one_class_is_refused(self, tmp_path, photos):
        root = class_folders(tmp_path / "data", photos, {"juice": 3})
        with pytest.raises(DatasetError, match=re.escape("only one class found ('juice')")) as info:
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

    def test_flat_folder_of_images_explains_the_layout(self, groceries4):
        with pytest.raises(DatasetError, match=r"found 40 images directly in .* no class "
                                               r"folders: put each class's images"):
            load_dataset(groceries4 / "milk")

    def test_a_file_that_is_not_a_dataset(self, tmp_path):
        (tmp_path / "photo.txt").write_text("x")
        with pytest.raises(DatasetError, match=re.escape("photo.txt is not a dataset")):
            load_dataset(tmp_path / "photo.txt")

    def test_force_multi_label_on_folders(self, groceries4):
        ds = load_dataset(groceries4, force_multi_label=True)
        assert ds.multi_label and ds.kind == "folder"


class TestLabelsCsv:
    def test_real_multilabel_set(self, multilabel):
        ds = load_dataset(multilabel)
        assert (len(ds), ds.multi_label, ds.kind, ds.classes) == (120, True, "csv", CLASSES)
        assert ds.problems == []
        assert ds.items[2] == Item((multilabel / "images" / "ml002.jpg").resolve(),
                                   ("juice", "milk", "water"))
        assert ds.labels_matrix().sum(axis=1).max() == 3
        assert (ds.targets() == ds.labels_matrix()).all()
        assert ds.targets([2]).tolist() == [[1.0, 1.0, 0.0, 1.0]]

    def test_the_csv_file_itself_can_be_given(self, multilabel):
        assert len(load_dataset(multilabel / "labels.csv")) == 120

    def test_single_label_csv_and_the_override(self, tmp_path, photos):
        root = csv_dataset(tmp_path / "d", photos,
                           "filename,labels\nj0.jpg,juice\nj1.jpg,juice\nm0.jpg,milk\n")
        ds = load_dataset(root)
        assert (ds.kind, ds.multi_label, ds.classes) == ("csv", False, ["juice", "milk"])
        assert load_dataset(root, force_multi_label=True).multi_label

    def test_multi_label_rows_cannot_be_forced_single(self, multilabel):
        with pytest.raises(DatasetError, match="several labels"):
            load_dataset(multilabel, force_multi_label=False)

    def test_bom_semicolons_and_other_header_words(self, tmp_path, photos):
        text = "\ufeffImage;Tags\nj0.jpg;juice\nm0.jpg;milk juice\n"
        ds = load_dataset(csv_dataset(tmp_path / "d", photos, text))
        assert [item.labels for item in ds.items] == [("juice",), ("juice", "milk")]
        assert ds.multi_label and ds.problems == []

    def test_tabs_and_comma_separated_labels_in_quotes(self, tmp_path, photos):
        text = 'file\tlabel\nj0.jpg\t"juice,milk"\nm1.jpg\tmilk\n'
        ds = load_dataset(csv_dataset(tmp_path / "d", photos, text))
        assert [item.labels for item in ds.items] == [("juice", "milk"), ("milk",)]

    def test_latin1_file_from_old_spreadsheets(self, tmp_path, photos):
        text = "filename,labels\nj0.jpg,café\nm0.jpg,milk\n"
        ds = load_dataset(csv_dataset(tmp_path / "d", photos, text, encoding="latin-1"))
        assert ds.classes == ["café", "milk"]

    def test_bad_rows_are_reported_and_skipped(self, tmp_path, photos):
        text = ("filename,labels\n"
                "j0.jpg,juice\n"
                "gone.jpg,milk\n"
                "j1.jpg,\n"
                "m0.jpg,milk\n"
                "m0.jpg,milk\n"
                "m1.jpg,milk\n"
                "m1.jpg,juice\n"
                "../../secret.jpg,milk\n"
                "notes.txt,milk\n"
                "\n"
                ",milk\n")
        ds = load_dataset(csv_dataset(tmp_path / "d", photos, text))
        assert names(ds) == ["images/j0.jpg", "images/m0.jpg", "images/m1.jpg"]
        assert [item.labels for item in ds.items] == [("juice",), ("milk",), ("milk",)]
        assert ds.problems == [
            ("gone.jpg", "listed in labels.csv line 3 but the file is missing (row skipped)"),
            ("j1.jpg", "labels.csv line 4 has no labels (row skipped)"),
            ("m0.jpg", "listed twice in labels.csv (lines 5 and 6; kept once)"),
            ("m1.jpg", "listed again in labels.csv line 8 with different labels "
                       "(line 7 kept)"),
            ("../../secret.jpg",
             "labels.csv line 9 points outside the dataset folder (row skipped)"),
            ("notes.txt", "labels.csv line 10 is not an image file name (row skipped)"),
            ("labels.csv line 12", "labels.csv line 12 has no file name (row skipped)"),
        ]

    def test_images_beside_the_csv(self, tmp_path, photos):
        shutil.copy(photos["juice"][0], tmp_path / "a.jpg")
        shutil.copy(photos["milk"][0], tmp_path / "b.jpg")
        (tmp_path / "labels.csv").write_text("filename,labels\na.jpg,juice\nb.jpg,milk\n")
        assert load_dataset(tmp_path).classes == ["juice", "milk"]

    def test_a_header_is_required(self, tmp_path, photos):
        root = csv_dataset(tmp_path / "d", photos, "j0.jpg,juice\nm0.jpg,milk\n")
        expected = "labels.csv: the first line must be a header"
        with pytest.raises(DatasetError, match=re.escape(expected)):
            load_dataset(root)

    def test_nothing_usable(self, tmp_path, photos):
        root = csv_dataset(tmp_path / "d", photos, "filename,labels\ngone.jpg,milk\n")
        expected = "labels.csv lists no usable images (gone.jpg: listed in labels.csv line 2"
        with pytest.raises(DatasetError, match=re.escape(expected)):
            load_dataset(root)


class TestZip:
    def test_zip_of_a_folder_is_unpacked_into_the_cache_and_reused(
            self, tmp_path, photos, scratch_home):
        source = class_folders(tmp_path / "src", photos, {"juice": 3, "milk": 3})
        upload = tmp_path / "dataset.zip"
        upload.write_bytes(zipped(source, "mydata/", {"__MACOSX/mydata/._x.jpg": b"junk",
                                                      "../evil.jpg": b"x"}))
        ds = load_dataset(upload)
        assert ds.root.parent.parent == (scratch_home / "datasets").resolve()
        assert ds.root.name == "mydata"
        assert ds.counts() == {"juice": 3, "milk": 3}
        assert ds.problems == [("../evil.jpg", "path escapes the archive ('..')")]
        again = load_dataset(upload)
        assert (again.root, again.items, again.problems) == (ds.root, ds.items, ds.problems)
        assert fingerprint(again) == fingerprint(load_dataset(source))

    def test_extract_to(self, tmp_path, multilabel):
        upload = tmp_path / "ml.zip"
        upload.write_bytes(zipped(multilabel))
        ds = load_dataset(upload, extract_to=tmp_path / "unpacked")
        assert (ds.root, len(ds), ds.multi_label) == ((tmp_path / "unpacked").resolve(), 120, True)

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
    def test_stratified_and_deterministic_on_real_photos(self, groceries4):
        ds = load_dataset(groceries4)
        train, valid = split(ds)
        assert (len(train), len(valid)) == (128, 32)
        assert label_counts(ds, valid) == dict.fromkeys(CLASSES, 8)
        assert sorted(train + valid) == list(range(160))
        assert split(ds) == (train, valid)
        assert split(ds, seed=7)[1] != valid

    def test_independent_of_listing_order(self, groceries4):
        ds = load_dataset(groceries4)
        shuffled = ds.subset(np.random.default_rng(0).permutation(len(ds)).tolist())
        assert set(names(shuffled, split(shuffled)[1])) == set(names(ds, split(ds)[1]))

    def test_adding_a_class_does_not_reshuffle_the_others(self, groceries4):
        ds = load_dataset(groceries4)
        without_water = ds.subset(i for i, item in enumerate(ds.items) if item.labels != ("water",))
        kept = set(names(without_water, split(without_water)[1]))
        assert kept == {name for name in names(ds, split(ds)[1]) if not name.startswith("water")}

    def test_multi_label_real_set_puts_each_label_near_its_share(self, multilabel):
        ds = load_dataset(multilabel)
        train, valid = split(ds)
        totals, in_valid = ds.counts(), label_counts(ds, valid)
        for name in CLASSES:
            assert abs(in_valid[name] - 0.2 * totals[name]) <= 2, (name, in_valid[name])
        assert label_counts(ds, train).keys() == set(CLASSES)
        assert split(ds) == (train, valid)

    def test_multi_label_labels_land_on_both_sides_even_when_greedy_fails(self):
        root = Path("/data")
        tags = [("juice", "milk", "soda"), ("soda", "water"), ("milk", "water"),
                ("juice", "milk")]
        ds = Dataset(root, [Item(root / f"{k}.jpg", t) for k, t in enumerate(tags)], CLASSES,
                     True, "csv")
        train, valid = split(ds)
        for name in CLASSES:
            assert label_counts(ds, train)[name] >= 1 and label_counts(ds, valid)[name] >= 1

    def test_small_classes_get_one_image_on_each_side(self, tmp_path, photos):
        ds = load_dataset(class_folders(tmp_path / "d", photos, {"juice": 2, "milk": 5}))
        train, valid = split(ds)
        assert label_counts(ds, valid) == {"juice": 1, "milk": 1}
        assert label_counts(ds, train) == {"juice": 1, "milk": 4}

    def test_a_class_with_one_image_cannot_be_split(self, tmp_path, photos):
        ds = load_dataset(class_folders(tmp_path / "d", photos, {"juice": 1, "milk": 5}))
        with pytest.raises(DatasetError,
                           match=r"each class needs at least 2 images.*'juice' has 1"):
            split(ds)

    def test_valid_pct_must_be_a_fraction(self, groceries4):
        with pytest.raises(ValueError, match="valid_pct"):
            split(load_dataset(groceries4), valid_pct=20)


class TestSummarize:
    def test_real_photos(self, groceries4):
        summary = summarize(load_dataset(groceries4))
        assert isinstance(summary, DatasetSummary)
        assert (summary.classes, summary.n_images) == (CLASSES, 160)
        assert summary.counts == dict.fromkeys(CLASSES, 40)
        assert summary.size_stats == {axis: {"min": 224, "median": 224, "max": 224}
                                      for axis in ("width", "height")}
        assert len(summary.sizes) == 160
        assert (summary.unreadable, summary.warnings) == ([], [])

    def test_multi_label_counts_each_label(self, multilabel):
        summary = summarize(load_dataset(multilabel), check_images=False)
        assert summary.multi_label and summary.n_images == 120
        assert summary.counts == {"juice": 53, "milk": 57, "soda": 53, "water": 55}

    def test_unreadable_files_are_listed_with_reasons(self, tmp_path, photos):
        root = class_folders(tmp_path / "d", photos, {"juice": 10, "milk": 10})
        data = photos["milk"][11].read_bytes()
        (root / "milk" / "cut.jpg").write_bytes(data[: len(data) // 2])
        (root / "milk" / "empty.jpg").write_bytes(b"")
        (root / "juice" / "list.png").write_text("not a picture")
        ds = load_dataset(root)
        summary = summarize(ds)
        assert summary.unreadable == [("juice/list.png", "not an image (unrecognised format)"),
                                      ("milk/cut.jpg", "truncated or corrupt image data"),
                                      ("milk/empty.jpg", "empty file (0 bytes)")]
        assert len(summary.sizes) == 20
        assert summary.warnings == ["3 file(s) cannot be read; fix or remove them before "
                                    "training."]
        headers_only = summarize(ds, check_images=False)
        assert [name for name, _ in headers_only.unreadable] == ["juice/list.png",
                                                                 "milk/empty.jpg"]

    def test_warns_about_few_images_and_imbalance(self, tmp_path, photos):
        ds = load_dataset(class_folders(tmp_path / "d", photos, {"juice": 13, "milk": 3}))
        assert summarize(ds).warnings == [
            "Class 'milk' has only 3 images; aim for at least 10 per class (more is better).",
            "Classes are imbalanced: 'juice' has 13 images but 'milk' only 3 (4x). The model "
            "may favour 'juice'; add photos of 'milk' if you can.",
        ]

    def test_warns_about_a_single_class(self, groceries4):
        ds = load_dataset(groceries4)
        juice_only = ds.subset(range(40))
        juice_only.classes = ["juice"]
        assert summarize(juice_only, check_images=False).warnings == [
            "Only one class (juice): a classifier needs at least two classes to learn to "
            "tell apart."]


class TestFingerprint:
    def test_same_content_elsewhere_same_fingerprint(self, tmp_path, photos):
        first = class_folders(tmp_path / "a", photos, {"juice": 3, "milk": 3})
        second = tmp_path / "b"
        shutil.copytree(first, second)
        os.utime(second / "juice" / photos["juice"][0].name, (0, 0))
        assert fingerprint(load_dataset(first)) == fingerprint(load_dataset(second))

    def test_changes_with_content_labels_or_files(self, tmp_path, photos):
        root = class_folders(tmp_path / "a", photos, {"juice": 3, "milk": 3})
        before = fingerprint(load_dataset(root))
        target = root / "milk" / photos["milk"][0].name
        target.write_bytes(target.read_bytes() + b"\0")
        edited = fingerprint(load_dataset(root))
        assert edited != before
        (root / "milk").rename(root / "dairy")
        assert fingerprint(load_dataset(root)) not in (before, edited)

    def test_real_photos(self, groceries4):
        ds = load_dataset(groceries4)
        value = fingerprint(ds)
        assert len(value) == 64 and value == fingerprint(load_dataset(groceries4))
        assert fingerprint(ds.subset(range(159))) != value

    def test_a_file_removed_after_loading(self, tmp_path, photos):
        ds = load_dataset(class_folders(tmp_path / "a", photos, {"juice": 2, "milk": 2}))
        ds.items[0].path.unlink()
        with pytest.raises(DatasetError, match="cannot be read any more"):
            fingerprint(ds)


def test_studio_home_from_the_environment_or_the_user_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CVLIB_HOME", str(tmp_path / "custom"))
    assert studio_home() == tmp_path / "custom" and (tmp_path / "custom").is_dir()
    monkeypatch.delenv("CVLIB_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert studio_home() == tmp_path / "user" / ".cvlib-studio"
