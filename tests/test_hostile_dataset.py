"""A dataset as people really bring it: good photos mixed with files that are broken, odd or
hostile.  Each bad file is named with its reason, nothing else is lost, training still runs
on what is readable, and the page shows messages instead of tracebacks.

Photos are copied into ``tmp_path`` from the repository's own ``sample_data/fridge4``; every
bad file and archive is generated here.
"""

from __future__ import annotations

import io
import re
import stat
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cvlib.data.dataset import load_dataset, summarize
from cvlib.runtime.progress import Progress
from cvlib.storage.home import studio_home
from tests.corpus import png_claiming
from tests.samples import CLASSES, QUICK, REPO, class_folders, photos

PHOTOS_PER_CLASS = 10


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    """The bytes of ``img`` saved in ``fmt``."""
    buffer = io.BytesIO()
    img.save(buffer, fmt, **params)
    return buffer.getvalue()


def truncated_jpeg(photo: Path) -> bytes:
    """The first half of a photo: the header is fine, the pixels stop midway."""
    data = photo.read_bytes()
    return data[: len(data) // 2]


def animated_gif() -> bytes:
    """Two frames: the studio reads the first."""
    frames = [Image.new("RGB", (64, 64), (200, 30, 30)), Image.new("RGB", (64, 64), (0, 0, 0))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


BAD_FILES = {
    # relative name: (bytes maker taking a good photo, the reason the summary must give)
    "can/empty.jpg": (lambda photo: b"", "empty file (0 bytes)"),
    "carton/shopping-list.png": (lambda photo: b"milk, cans, cartons\n",
                                 "not an image (unrecognised format)"),
    "milk_bottle/cut-off.jpg": (truncated_jpeg, "truncated or corrupt image data"),
    "water_bottle/bomb.png": (lambda photo: png_claiming(12_000, 12_000),
                              "too large: 12000x12000 pixels, limit 40 MP"),
}

ODD_BUT_GOOD_FILES = {
    "can/cmyk.jpg": lambda: encode(Image.new("CMYK", (64, 64), (0, 200, 200, 0)), "JPEG"),
    "carton/sixteen-bit.png": lambda: encode(
        Image.fromarray(np.full((64, 64), 40_000, np.uint16)), "PNG"),
    "milk_bottle/animated.gif": animated_gif,
    "water_bottle/transparent.png": lambda: encode(
        Image.new("RGBA", (64, 64), (0, 90, 200, 128)), "PNG"),
}


@pytest.fixture
def messy_folder(tmp_path: Path) -> Path:
    """Photos per class plus, in every class, one bad file and one odd-but-good one."""
    root = class_folders(tmp_path / "messy", dict.fromkeys(CLASSES, PHOTOS_PER_CLASS))
    good_photo = photos("milk_bottle")[-1]
    for relative, (make, _) in BAD_FILES.items():
        (root / relative).write_bytes(make(good_photo))
    for relative, make in ODD_BUT_GOOD_FILES.items():
        (root / relative).write_bytes(make())
    return root


def test_the_summary_names_every_bad_file_with_its_reason_and_keeps_the_rest(messy_folder):
    dataset = load_dataset(messy_folder)
    summary = summarize(dataset)
    assert sorted(summary.unreadable) == sorted(
        (name, reason) for name, (_, reason) in BAD_FILES.items())
    readable = len(CLASSES) * PHOTOS_PER_CLASS + len(ODD_BUT_GOOD_FILES)
    assert len(summary.sizes) == readable
    assert summary.n_images == readable + len(BAD_FILES)
    assert any("4 file(s) cannot be read" in warning for warning in summary.warnings)


@pytest.mark.slow
def test_training_skips_unreadable_images_names_them_and_still_learns(messy_folder):
    from cvlib.training.train import train

    dataset = load_dataset(messy_folder)
    progress = Progress()
    result = train(dataset, QUICK, progress=progress)

    used = {p.relative_to(messy_folder).as_posix()
            for p in [*result.train_paths, *result.valid_paths]}
    assert used.isdisjoint(BAD_FILES)
    assert set(ODD_BUT_GOOD_FILES) <= used
    assert len(used) == len(CLASSES) * PHOTOS_PER_CLASS + len(ODD_BUT_GOOD_FILES)
    warning = next(m for m in progress.messages if "skipped" in m)
    for name, (_, reason) in BAD_FILES.items():
        assert f"{name} ({reason})" in warning
    assert result.metrics["n"] == len(result.valid_paths)
    assert result.metrics["accuracy"] >= 0.5
    assert len(result.meta["split"]["valid"]) == len(result.valid_paths)


def test_a_fixed_validation_split_is_renumbered_around_the_skipped_files(messy_folder):
    from cvlib.training.train import drop_unreadable

    dataset = load_dataset(messy_folder)
    valid = list(range(0, len(dataset), 3))
    kept, kept_valid = drop_unreadable(dataset, Progress(), valid)
    assert len(kept) == len(dataset) - len(BAD_FILES)
    assert [kept.items[i].path for i in kept_valid] == [
        dataset.items[i].path for i in valid
        if dataset.name_of(dataset.items[i].path) not in BAD_FILES]


def make_zip(*entries: tuple[str | zipfile.ZipInfo, bytes]) -> bytes:
    """A zip of ``(name or ZipInfo, data)`` entries, in order, duplicates allowed."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name" is the point
        for name, data in entries:
            zf.writestr(name, data)
    return buffer.getvalue()


def symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    """A zip entry that is a Unix symbolic link to ``target``."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def hostile_upload() -> bytes:
    """Photos in class folders, with every trick a zip can play mixed in."""
    good = [(f"fridge/{name}/{p.name}", p.read_bytes()) for name in ("milk_bottle", "can")
            for p in photos(name, 4)]
    first_name, first_bytes = good[0]
    return make_zip(
        *good,
        ("../../escape.jpg", first_bytes),
        ("/etc/cvlib-absolute.jpg", first_bytes),
        symlink("fridge/milk_bottle/link.jpg", "/etc/passwd"),
        ("fridge/milk_bottle/nested.zip", make_zip(("inner.jpg", first_bytes))),
        (first_name, b"a second copy with the same name"),
    )


def open_page_01() -> AppTest:
    """Page 01 opened from the home page, as a visitor would."""
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    app.switch_page("pages/01_Training_introduction.py")
    return app.run()


def upload_zip(app: AppTest, data: bytes, name: str) -> AppTest:
    """Choose "Upload a zip" and upload ``data`` under the file name ``name``."""
    app.radio(key="tutorial:single-source").set_value("Upload a zip").run()
    app.file_uploader(key="tutorial:single-upload").upload(name, data, "application/zip")
    return app.run()


def page_text(app: AppTest) -> str:
    """Every caption, error, warning and markdown text on the page, joined."""
    parts = [*app.caption, *app.error, *app.warning, *app.markdown]
    return "\n".join(str(part.value) for part in parts)


def test_a_hostile_zip_upload_shows_each_refusal_and_the_page_keeps_working(tmp_path):
    app = upload_zip(open_page_01(), hostile_upload(), "../../../.bashrc.zip")
    assert not app.exception, app.exception
    text = page_text(app)
    assert "../../escape.jpg: path escapes the archive ('..')" in text
    assert "/etc/cvlib-absolute.jpg: absolute path not allowed" in text
    assert "fridge/milk_bottle/link.jpg: symbolic link not extracted" in text
    assert "fridge/milk_bottle/nested.zip: nested archive not extracted" in text
    assert "duplicate name (first copy kept)" in text
    assert [m.value for m in app.metric if m.label == "Images"] == ["8"]
    assert not (tmp_path.parent / "escape.jpg").exists()
    assert not Path("/etc/cvlib-absolute.jpg").exists()
    kept = [p.name for p in (studio_home() / "uploads").iterdir()]
    assert kept and all(re.fullmatch(r"[0-9a-f]{16}\.zip", name) for name in kept)


def test_a_zip_bomb_upload_is_refused_with_a_message_not_a_traceback():
    bomb = make_zip(("a/bomb.jpg", b"\0" * (20 * 1024**2)), ("b/x.jpg", b"\0"))
    app = upload_zip(open_page_01(), bomb, "bomb.zip")
    assert not app.exception, app.exception
    (error,) = app.error
    assert "refused as a likely zip bomb: a/bomb.jpg expands" in error.value


def test_a_file_that_is_not_a_zip_is_refused_with_a_message():
    app = upload_zip(open_page_01(), b"PK\x03\x04 but nothing else", "broken.zip")
    assert not app.exception, app.exception
    (error,) = app.error
    assert "not a zip file, or the archive is corrupt" in error.value


def test_a_dataset_with_one_class_is_explained_before_training():
    only_milk = make_zip(*[(f"milk/{p.name}", p.read_bytes()) for p in photos("milk_bottle", 3)])
    app = upload_zip(open_page_01(), only_milk, "milk.zip")
    assert not app.exception, app.exception
    (error,) = app.error
    assert "only one class found ('milk') in milk.zip" in error.value  # its name, not a hash
    assert str(studio_home()) not in error.value
    assert "at least two classes" in error.value


def test_a_class_too_small_to_split_is_explained_when_training_starts():
    water = photos("water_bottle", 1)[0]
    lopsided = make_zip(*[(f"milk/{p.name}", p.read_bytes()) for p in photos("milk_bottle", 3)],
                        (f"water/{water.name}", water.read_bytes()))
    app = upload_zip(open_page_01(), lopsided, "lopsided.zip")
    assert "Class 'water' has only 1 images" in page_text(app)
    app.button(key="p01-train").click().run()
    for _ in range(60):
        if app.error:
            break
        time.sleep(0.5)
        app.run()
    assert not app.exception, app.exception
    (error,) = app.error
    assert "each class needs at least 2 images" in error.value
    assert "'water' has 1" in error.value


def test_a_failing_section_shows_a_readable_message_and_the_rest_of_the_page_runs():
    def page() -> None:
        import streamlit as st

        from cvlib.errors import DatasetError
        from ui.common import guarded

        @guarded
        def expected_problem() -> None:
            raise DatasetError("class 'milk' has only 1 image")

        @guarded
        def bug() -> None:
            raise KeyError("oops")

        expected_problem()
        bug()
        st.markdown("the rest of the page")

    app = AppTest.from_function(page).run()
    assert not app.exception
    assert [e.value for e in app.error] == ["class 'milk' has only 1 image",
                                            "Something went wrong: KeyError: 'oops'"]
    assert len(app.expander) == 1 and "Traceback" in app.expander[0].code[0].value
    assert app.markdown[-1].value == "the rest of the page"
