"""Page 00 scores snapshots and uploads with real models and explains them with Grad-CAM.

The ImageNet model must recognise scikit-image's photos (Chelsea the cat, a cup of
espresso); a model trained by the studio must recognise a real groceries photo.  The live
stream itself is tested in a real browser (tests/test_webrtc_browser.py).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata
from streamlit.testing.v1 import AppTest

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


def top_label(app: AppTest) -> str:
    """The bold top-1 label the page writes next to the bar chart."""
    shown = [m.value for m in app.markdown if m.value.startswith("**") and " · " in m.value]
    assert shown, "no scores shown"
    return shown[-1].split("**")[1]


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
    label = top_label(app)
    assert label in CATS
    captions = [c for img in app.image for c in img.captions]
    assert f"Grad-CAM for “{label}”: red = strongest evidence" in captions


def test_uploaded_espresso_on_pytorch_engine_is_espresso():
    app = open_page()
    app.radio(key="p00:engine").set_value("torch").run()
    app.file_uploader(key="p00:upload").set_value(("coffee.png", _png(skdata.coffee()),
                                                   "image/png"))
    app.run()
    assert_no_error(app)
    assert top_label(app) == "espresso"


@pytest.fixture()
def saved_model(trained_model_dir: Path, studio_home_for_tests: Path) -> Iterator[Path]:
    """The trained model saved under the studio home (as page 01 saves), for one test."""
    saved = Path(shutil.copytree(trained_model_dir,
                                 studio_home_for_tests / "models" / "groceries4-lite0"))
    yield saved
    shutil.rmtree(saved)


def test_a_saved_model_scores_a_groceries_photo(saved_model, groceries4):
    app = open_page()
    labels = app.selectbox(key="p00:model").options
    assert "Saved · groceries4-lite0" in labels
    app.selectbox(key="p00:model").set_value("Saved · groceries4-lite0").run()
    photo = sorted((groceries4 / "milk").glob("*.jpg"))[0]
    app.file_uploader(key="p00:upload").set_value((photo.name, photo.read_bytes(),
                                                   "image/jpeg"))
    app.run()
    assert_no_error(app)
    assert top_label(app) == "milk"


def _png(pixels: np.ndarray) -> bytes:
    """An RGB array as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()

