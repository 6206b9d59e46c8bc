"""An exported ONNX model predicts exactly like the PyTorch model it came from.

The export records no preprocessing of its own: ``model.json`` beside it holds the one
recipe that the app, the command line, the stream and ONNX Runtime all apply.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cvlib.data.dataset import load_dataset
from cvlib.data.images import load_image
from cvlib.models.inference import Predictor, parity
from tests.samples import CLASSES, FRIDGE4, REPO, class_folders


def run_cli(*args: str) -> dict:
    """``python -m cvlib ... --json`` in a subprocess; its stdout parsed."""
    done = subprocess.run([sys.executable, "-m", "cvlib", *args, "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def images() -> tuple[list, np.ndarray]:
    """Every photo of ``sample_data/fridge4``, decoded, and their class indices."""
    dataset = load_dataset(FRIDGE4)
    return [load_image(p) for p, _ in dataset.items], dataset.targets()


def test_onnx_agrees_with_pytorch_on_every_sample_photo(sample_model_dir, images):
    report = parity(sample_model_dir, images[0])
    print(f"ONNX vs PyTorch on {report.n} photos: label agreement "
          f"{report.label_agreement:.1%}, largest probability difference "
          f"{report.max_abs_prob_diff:.2e}")
    assert report.n == 120
    assert report.label_agreement == 1.0
    assert report.max_abs_prob_diff < 1e-4


def test_the_sample_model_names_every_photo_it_was_fitted_on(sample_model_dir, images):
    """What the serving, stream and page tests rely on when they expect the true class of a
    sample photo: the session's model saw every one of them (``fit_on_all``)."""
    photos, targets = images
    probs = Predictor.load(sample_model_dir, "onnx").predict_proba(photos)
    assert (probs.argmax(1) == targets).all()
    assert probs.max(1).min() > 0.5


def test_onnx_model_reads_its_preprocessing_from_model_json(sample_model_dir):
    predictor = Predictor.load(sample_model_dir, "onnx")
    meta = json.loads((sample_model_dir / "model.json").read_text())
    assert predictor.engine == "onnx"
    assert predictor.preprocessing.to_dict() == meta["preprocessing"]
    assert predictor.classes == meta["classes"]


@pytest.fixture()
def model_copy(sample_model_dir, tmp_path) -> Path:
    """A private copy, so re-exporting does not touch the session's shared model."""
    return Path(shutil.copytree(sample_model_dir, tmp_path / "model"))


@pytest.fixture()
def few_photos(tmp_path) -> Path:
    """Two photos per class in a scratch folder (outside the repository)."""
    return class_folders(tmp_path / "few", dict.fromkeys(CLASSES, 2))


def test_cli_export_writes_onnx_and_checks_parity(model_copy, few_photos):
    (model_copy / "model.onnx").unlink()
    report = run_cli("export", "--model", str(model_copy), "--data", str(few_photos))
    assert Path(report["onnx"]) == model_copy / "model.onnx"
    assert (model_copy / "model.onnx").stat().st_size > 1_000_000
    assert report["parity"] == {"n": 8, "label_agreement": 1.0,
                                "max_abs_prob_diff": pytest.approx(0, abs=1e-4)}


def test_cli_predict_with_onnx_names_the_products(sample_model_dir, few_photos):
    photos = sorted(few_photos.glob("*/*.jpg"))
    report = run_cli("predict", "--model", str(sample_model_dir), "--engine", "onnx",
                     *map(str, photos))
    assert report["engine"] == "onnx"
    predicted = [p["labels"][0] for p in report["predictions"]]
    truth = [Path(p["image"]).parent.name for p in report["predictions"]]
    assert predicted == truth, "photos the model was fitted on"
    torch_probs = Predictor.load(sample_model_dir, "torch").predict_proba(
        [load_image(p) for p in photos])
    for row, prediction in zip(torch_probs, report["predictions"], strict=True):
        top = prediction["top"][0]
        assert row.max() == pytest.approx(top["probability"], abs=1e-4)
