"""Page 10 (annotation) in Streamlit's AppTest: labels survive a reload; a model pre-labels."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cvlib.data import read_labels_csv

REPO = Path(__file__).resolve().parent.parent
CLASSES = ["juice", "milk", "soda", "water"]


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
def folder(groceries4: Path, tmp_path: Path) -> Path:
    """Eight unlabelled real photos, two of each grocery class."""
    target = tmp_path / "to-label"
    target.mkdir()
    for label in CLASSES:
        for source in sorted((groceries4 / label).glob("*.jpg"))[:2]:
            shutil.copy(source, target / source.name)
    return target


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
    assert [item.labels[0] for item in items] == ["juice", "milk", "soda", "water", "juice"]
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
        folder: Path, trained_model_dir: Path):
    models = Path(os.environ["CVLIB_HOME"]) / "models"
    shutil.copytree(trained_model_dir, models / "groceries-helper", dirs_exist_ok=True)
    app = open_folder(folder)
    app.selectbox(key="p10:model").set_value(str(models / "groceries-helper")).run()
    assert not app.exception, app.exception
    suggestion = next(m.value for m in app.markdown if m.value.startswith("**Model suggests"))
    first = sorted(folder.glob("*.jpg"))[0].name  # juice0xxx.jpg sorts first
    assert suggestion == "**Model suggests:** juice", (first, suggestion)
    accept = app.button(key="p10:accept")
    assert accept.proto.shortcut.lower() == "a"
    accept.click().run()
    assert progress_text(app).startswith("1 of 8 images labelled")
    items, _ = read_labels_csv(folder / "labels.csv")
    assert [(item.path.name, item.labels) for item in items] == [(first, ("juice",))]
