"""Page 10 (annotation) in Streamlit's AppTest: labels survive a reload; a model pre-labels."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cvlib.data.labels_csv import read_labels_csv
from tests.samples import CLASSES, REPO, flat_folder


def open_page() -> AppTest:
    """Page 10, reached from the home page as a visitor would."""
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    app.switch_page("pages/10_Annotation.py")
    return app.run()


def open_folder(folder: Path) -> AppTest:
    """Page 10 with a local folder chosen."""
    app = open_page()
    app.radio(key="p10:source").set_value("A folder on this machine").run()
    app.text_input(key="p10:folder").input(str(folder)).run()
    assert not app.exception, app.exception
    return app


def progress_text(app: AppTest) -> str:
    """The annotator's progress line."""
    return app.get("progress")[0].proto.text


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Eight unlabelled sample photos, two of each class."""
    return flat_folder(tmp_path / "to-label", 2)


def test_five_labels_given_with_the_buttons_are_there_after_a_reload(folder: Path):
    app = open_folder(folder)
    app.text_input(key="p10:new-class").input(", ".join(CLASSES))
    next(b for b in app.button if "Add" in b.label).click().run()
    assert sorted(b.label for b in app.button if b.key.startswith("p10:class-")) == [
        f"{i + 1} · {c}" for i, c in enumerate(CLASSES)]
    for i in range(5):
        app.button(key=f"p10:class-{i % 4}").click().run()
    assert not app.exception, app.exception
    assert progress_text(app).startswith("5 of 8 images labelled")

    reloaded = open_folder(folder)
    assert progress_text(reloaded).startswith("5 of 8 images labelled")
    assert "image 6" in progress_text(reloaded), "resumes at the first image still to do"
    items, _ = read_labels_csv(folder / "labels.csv")
    assert [item.labels[0] for item in items] == [*CLASSES, "can"]
    grid = [c.value for c in reloaded.caption if ": " in c.value and ".jpg" in c.value]
    assert len(grid) == 5, "the review grid lists the five labelled images"


def test_skip_undo_and_a_class_added_on_the_fly(folder: Path):
    app = open_folder(folder)
    app.text_input(key="p10:new-class").input("milk")
    next(b for b in app.button if "Add" in b.label).click().run()
    app.button(key="p10:skip").click().run()
    assert "1 skipped" in progress_text(app)
    app.button(key="p10:undo").click().run()
    assert "0 skipped" in progress_text(app)
    app.text_input(key="p10:new-class").input("orange juice")
    next(b for b in app.button if "Add" in b.label).click().run()
    assert any("cannot hold spaces" in w.value for w in app.warning)
    app.text_input(key="p10:new-class").input("orange-juice")
    next(b for b in app.button if "Add" in b.label).click().run()
    assert app.button(key="p10:class-1").label == "2 · orange-juice"


def test_a_saved_model_suggests_labels_and_one_key_accepts_them(
        folder: Path, sample_model_dir: Path):
    """The model was fitted on these very photos, so its suggestion is the true class."""
    models = Path(os.environ["CVLIB_HOME"]) / "models"
    shutil.copytree(sample_model_dir, models / "fridge-helper", dirs_exist_ok=True)
    app = open_folder(folder)
    app.text_input(key="p10:new-class").input(", ".join(CLASSES))
    next(b for b in app.button if "Add" in b.label).click().run()
    app.selectbox(key="p10:model").set_value(str(models / "fridge-helper")).run()
    assert not app.warning, "a model of the annotation's own classes is not flagged"
    assert not app.exception, app.exception
    suggestion = next(m.value for m in app.markdown if m.value.startswith("**Model suggests"))
    first = sorted(folder.glob("*.jpg"))[0].name  # can_001.jpg sorts first
    assert suggestion == "**Model suggests:** can", (first, suggestion)
    accept = app.button(key="p10:accept")
    assert accept.proto.shortcut.lower() == "a"
    accept.click().run()
    assert progress_text(app).startswith("1 of 8 images labelled")
    items, _ = read_labels_csv(folder / "labels.csv")
    assert [(item.path.name, item.labels) for item in items] == [(first, ("can",))]


def digests(paths) -> set[str]:
    """Content hashes of some files (names aside)."""
    import hashlib

    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_practice_photos_show_one_product_each_in_the_default_single_label_mode():
    app = open_page()
    assert app.radio(key="p10:source").value.startswith("Sample photos: one product each")
    assert app.toggle(key="p10:multi").value is False
    practice = Path(os.environ["CVLIB_HOME"]) / "annotation-sets" / "fridge-practice-single"
    assert digests(practice.glob("*.jpg")) == digests((REPO / "sample_data" / "fridge4")
                                                      .rglob("*.jpg"))
    assert not any(c in p.name for p in practice.glob("*.jpg")
                   for c in ("bottle", "can", "carton", "jar")), "names give no answer"
    app.radio(key="p10:source").set_value(
        "Sample shelves: several products (multi-label practice)").run()
    assert app.toggle(key="p10:multi").value is True


def test_the_start_box_names_no_workshop_preset_that_does_not_exist():
    app = open_page()
    app.radio(key="p10:source").set_value("A folder on this machine").run()
    shown = " ".join(i.value for i in app.info)
    assert "sample photos" in shown and "preset" not in shown.lower()


def test_an_excluded_image_leaves_the_csv_and_the_tutorial_file_round_trips(tmp_path: Path):
    app = open_page()
    app.text_input(key="p10:new-class").input("bottle, can, carton, jar")
    next(b for b in app.button if "Add" in b.label).click().run()
    app.button(key="p10:class-0").click().run()
    app.button(key="p10:exclude").click().run()
    assert not app.exception, app.exception
    assert "1 of 120 images labelled · 0 skipped · 1 excluded · image 3" in progress_text(app)
    app.selectbox(key="p10:grid-filter").set_value("excluded").run()
    assert [c.value for c in app.caption if c.value.endswith(": excluded")] == [
        "photo_002.jpg: excluded"]

    app.radio(key="p10:export-kind").set_value("Tutorial annotation file (tab-separated)")
    app.text_input(key="p10:export-path").input(str(tmp_path / "cvbp.txt"))
    app.button(key="p10:export").click().run()
    lines = (tmp_path / "cvbp.txt").read_text().splitlines()
    assert lines == ["IM_FILENAME\tEXCLUDE\tLABELS", "photo_001.jpg\tFalse\tbottle",
                     "photo_002.jpg\tTrue\t"]

    (tmp_path / "cvbp.txt").write_text("\n".join([*lines, "photo_003.jpg\tFalse\tjar"]))
    app.text_input(key="p10:import-path").input(str(tmp_path / "cvbp.txt"))
    app.button(key="p10:import").click().run()
    assert any("Imported labels for 3 image(s)" in s.value for s in app.success)
    assert progress_text(app).startswith("2 of 120 images labelled · 0 skipped · 1 excluded")


def test_a_model_trained_on_other_classes_is_flagged_and_accept_adds_no_class(
        folder: Path, sample_model_dir: Path):
    """The annotation's classes share none with the model's, so whatever it suggests for
    the first photo is a class the annotation does not have."""
    models = Path(os.environ["CVLIB_HOME"]) / "models"
    shutil.copytree(sample_model_dir, models / "fridge-helper", dirs_exist_ok=True)
    app = open_folder(folder)  # photos labelled in the learner's own words
    app.text_input(key="p10:new-class").input("bottle, box, jar, tin")
    next(b for b in app.button if "Add" in b.label).click().run()
    picker = app.selectbox(key="p10:model")
    assert picker.format_func(str(models / "fridge-helper")).endswith(
        f"({', '.join(CLASSES)}) · ⚠ other classes")
    picker.set_value(str(models / "fridge-helper")).run()
    assert any(f"was trained on {', '.join(CLASSES)}" in w.value for w in app.warning)
    accept = app.button(key="p10:accept")
    assert accept.disabled
    assert any("is not a class of this annotation" in c.value for c in app.caption)
    assert [b.label for b in app.button if b.key.startswith("p10:class-")] == [
        "1 · bottle", "2 · box", "3 · jar", "4 · tin"]
    app.button(key="p10:add-model-classes").click().run()
    assert not app.button(key="p10:accept").disabled, "the user added the classes"
