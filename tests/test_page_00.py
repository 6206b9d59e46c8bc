"""Page 00 scores snapshots and uploads with real models and explains them with Grad-CAM.

The ImageNet model must recognise scikit-image's photos (Chelsea the cat, a cup of
espresso); a model trained by the studio must recognise a photo of its own classes.  The live
stream itself is tested in a real browser (tests/test_webrtc_browser.py).
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata
from streamlit.testing.v1 import AppTest

from cvlib.data.captures import list_captures
from tests.samples import photos

REPO = Path(__file__).resolve().parent.parent
PAGE = "pages/00_Live_scoring.py"
CATS = {"Egyptian cat", "tabby", "tiger cat"}


def open_page() -> AppTest:
    """Page 00 opened from the home page, as a visitor would."""
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=240)
    app.switch_page(PAGE)
    return app.run()


def jpeg(pixels: np.ndarray) -> bytes:
    """An RGB array as JPEG bytes, as a browser sends a snapshot."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def assert_no_error(app: AppTest) -> None:
    """The page ran to the end without an exception or an error box."""
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]


TABS = {"stream": 0, "snapshot": 1, "upload": 2, "examples": 3}


def top_label(app: AppTest, tab: str) -> str:
    """The bold top-1 label the page writes next to the bar chart, in one tab."""
    shown = [m.value for m in app.tabs[TABS[tab]].markdown
             if m.value.startswith("**") and " · " in m.value]
    assert shown, f"no scores shown in the {tab} tab"
    return shown[-1].split("**")[1]


def timing(app: AppTest, tab: str) -> str:
    """The caption saying how long scoring (and Grad-CAM) took, in one tab."""
    found = [c.value for c in app.tabs[TABS[tab]].caption if c.value.startswith("Scored in")]
    assert found, f"no timing shown in the {tab} tab"
    return found[-1]


def test_page_teaches_and_offers_stream_snapshot_and_upload():
    app = open_page()
    assert_no_error(app)
    text = " ".join(m.value for m in app.markdown)
    assert "softmax" in text and "ONNX Runtime" in text and "newest" in text
    assert app.camera_input(key="p00:snapshot") is not None
    assert app.file_uploader(key="p00:upload") is not None
    assert app.selectbox(key="p00:model").value.startswith("ImageNet · efficientnet_lite0")
    assert any("Camera doctor" in e.label for e in app.expander)


def test_snapshot_of_a_cat_is_a_cat_with_its_grad_cam():
    app = open_page()
    app.camera_input(key="p00:snapshot").set_value(("shot.jpg", jpeg(skdata.chelsea()),
                                                    "image/jpeg"))
    app.run()
    assert_no_error(app)
    label = top_label(app, "snapshot")
    assert label in CATS
    assert re.match(r"Scored in \d+ ms \(ONNX Runtime\) · Grad-CAM \d+ ms", timing(app, "snapshot"))
    captions = [c for img in app.image for c in img.captions]
    assert f"Grad-CAM for “{label}”: red = strongest evidence" in captions


def test_uploaded_espresso_on_pytorch_engine_is_espresso():
    app = open_page()
    app.radio(key="p00:engine").set_value("torch").run()
    app.file_uploader(key="p00:upload").set_value(("coffee.png", _png(skdata.coffee()),
                                                   "image/png"))
    app.run()
    assert_no_error(app)
    assert top_label(app, "upload") == "espresso"
    assert re.match(r"Scored in \d+ ms \(PyTorch\)", timing(app, "upload"))


@pytest.fixture()
def saved_model(sample_model_dir: Path, studio_home_for_tests: Path) -> Iterator[Path]:
    """The trained model saved under the studio home (as page 01 saves), for one test."""
    saved = Path(shutil.copytree(sample_model_dir,
                                 studio_home_for_tests / "models" / "fridge4-lite0"))
    yield saved
    shutil.rmtree(saved)


def test_a_saved_model_scores_a_photo_of_its_classes(saved_model):
    app = open_page()
    labels = app.selectbox(key="p00:model").options
    assert "Saved · fridge4-lite0" in labels
    app.selectbox(key="p00:model").set_value("Saved · fridge4-lite0").run()
    photo = photos("milk_bottle")[0]  # one the model was fitted on
    app.file_uploader(key="p00:upload").set_value((photo.name, photo.read_bytes(),
                                                   "image/jpeg"))
    app.run()
    assert_no_error(app)
    assert top_label(app, "upload") == "milk_bottle"


def _png(pixels: np.ndarray) -> bytes:
    """An RGB array as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()



def test_a_learner_without_a_camera_scores_the_bundled_example_photos():
    app = open_page()
    assert_no_error(app)
    assert app.selectbox(key="p00:example").value is None, "nothing scored until chosen"
    app.selectbox(key="p00:example").set_value("Chelsea the cat").run()
    assert_no_error(app)
    assert top_label(app, "examples") in CATS
    assert timing(app, "examples").startswith("Scored in")
    app.selectbox(key="p00:example").set_value("A cup of espresso").run()
    assert_no_error(app)
    assert top_label(app, "examples") == "espresso"


def test_snapshots_are_kept_once_in_the_captures_folder_that_page_12_mines():
    app = open_page()
    before = set(list_captures())
    shot = jpeg(skdata.rocket())
    app.camera_input(key="p00:snapshot").set_value(("shot.jpg", shot, "image/jpeg")).run()
    app.run()  # the same snapshot on a rerun is not stored again
    assert_no_error(app)
    kept = set(list_captures()) - before
    assert len(kept) == 1
    assert any(f"Kept as `{next(iter(kept)).name}`" in c.value for c in app.caption)

    app.toggle(key="p00:keep").set_value(False).run()
    app.camera_input(key="p00:snapshot").set_value(("two.jpg", jpeg(skdata.astronaut()),
                                                    "image/jpeg")).run()
    assert set(list_captures()) - before == kept, "nothing kept with the toggle off"

    page12 = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    page12.switch_page("pages/12_Hard_negatives.py")
    page12.run()
    sources = page12.radio(key="p12:neg-source")
    assert "Webcam captures (page 00)" in sources.options
    sources.set_value("Webcam captures (page 00)").run()
    assert not page12.exception and not page12.error
    assert any("negative images" in c.value for c in page12.caption)
