"""The scoring rules, in-process: what ``score.py`` answers for good and bad requests.

The same handler runs inside the Azure ML inference server (see test_local_endpoint.py);
here it is called directly, so every rule is checked quickly and precisely.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from cvlib.serving.scoring.handler import Limits, ScoringModel, find_model_dir, handle_request
from tests.samples import CLASSES
from tests.samples import photos as class_photos


def b64(data: bytes) -> str:
    """Base64 text, as a client sends it."""
    return base64.b64encode(data).decode()


def png_bytes(size: tuple[int, int]) -> bytes:
    """A plain PNG of the given size (a huge one compresses to a few kilobytes)."""
    out = io.BytesIO()
    Image.new("L", size).save(out, format="PNG")
    return out.getvalue()


def request(*images: str, **extra) -> bytes:
    """A request body in the seed's format."""
    return json.dumps({"data": list(images), **extra}).encode()


@pytest.fixture(scope="module")
def model(sample_model_dir: Path) -> ScoringModel:
    """The trained model as the scoring service loads it (ONNX + JSON)."""
    return ScoringModel.load(sample_model_dir)


@pytest.fixture(scope="module")
def photos() -> dict[str, list[Path]]:
    """Three sample photos per class (the model was fitted on them: it knows the answers)."""
    return {c: class_photos(c, 3) for c in CLASSES}


def test_photos_get_their_label_and_probability(model, photos):
    paths = [p for c in CLASSES for p in photos[c]]
    status, answer = handle_request(model, request(*(b64(p.read_bytes()) for p in paths)))
    assert status == 200
    labels = [a["label"] for a in answer["predictions"]]
    assert labels == [c for c in CLASSES for _ in photos[c]]
    assert all(0.5 < a["probability"] <= 1.0 for a in answer["predictions"])


def test_top_k_is_returned_on_request_most_probable_first(model, photos):
    status, answer = handle_request(model, request(
        b64(photos["water_bottle"][0].read_bytes()), top_k=3))
    assert status == 200
    top = answer["predictions"][0]["top_k"]
    assert top[0]["label"] == "water_bottle" and len(top) == 3
    assert top[0]["probability"] >= top[1]["probability"] >= top[2]["probability"]


def test_an_unreadable_image_gets_an_error_entry_and_the_others_are_answered(model, photos):
    body = request(b64(photos["carton"][0].read_bytes()), b64(b"not an image"), "@@@")
    status, answer = handle_request(model, body)
    assert status == 200
    first, second, third = answer["predictions"]
    assert first["label"] == "carton"
    assert second["error"].startswith("image 2:")
    assert third["error"] == "image 3: not valid base64"


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"{not json", 400, "not valid JSON"),
    (b"\xff\xfe", 400, "not valid JSON"),
    (b'["a list"]', 400, '{"data"'),
    (b'{"data": []}', 400, "empty"),
    (request("@@@not base64"), 400, "not valid base64"),
    (request(b64(b"%PDF-1.4 not a picture")), 400, "image 1"),
    (request(b64(png_bytes((12000, 12000)))), 400, "image 1"),
    (request("QUJD", top_k=0), 400, "top_k"),
    (request(*["QUJD"] * 33), 413, "limit is 32"),
])
def test_bad_requests_get_a_4xx_and_a_message(model, body, status, words):
    got, answer = handle_request(model, body)
    assert got == status
    assert words in answer["message"]


def test_a_request_over_the_size_limit_is_refused_before_parsing(model):
    status, answer = handle_request(model, b"x" * 2000, Limits(max_request_bytes=1000))
    assert status == 413 and "limit is 1,000" in answer["message"]


def test_limits_come_from_the_deployment_environment():
    limits = Limits.from_env({"CVLIB_MAX_IMAGES": "4", "CVLIB_MAX_PIXELS": "1000", "OTHER": "1"})
    assert (limits.max_images, limits.max_pixels) == (4, 1000)
    assert limits.max_request_bytes == Limits().max_request_bytes


def test_azure_mounts_the_model_folder_one_level_down(sample_model_dir, tmp_path):
    (tmp_path / "cvlib-model").symlink_to(sample_model_dir)
    assert find_model_dir(tmp_path) == tmp_path / "cvlib-model"
    assert find_model_dir(sample_model_dir) == sample_model_dir
