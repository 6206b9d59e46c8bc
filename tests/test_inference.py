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

import pytest

from cvlib.data.dataset import load_dataset
from cvlib.data.images import load_image
from cvlib.models.inference import Predictor, parity

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> dict:
    """``python -m cvlib ... --json`` in a subprocess; its stdout parsed."""
    done = subprocess.run([sys.executable, "-m", "cvlib", *args, "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_onnx_agrees_with_pytorch_on_every_groceries_photo(trained_model_dir, groceries4):
    images = [load_image(p) for p, _ in load_dataset(groceries4).items]
    report = parity(trained_model_dir, images)
    print(f"ONNX vs PyTorch on {report.n} photos: label agreement "
          f"{report.label_agreement:.1%}, largest probability difference "
          f"{report.max_abs_prob_diff:.2e}")
    assert report.n == 160
    assert report.label_agreement == 1.0
    assert report.max_abs_prob_diff < 1e-4


def test_onnx_model_reads_its_preprocessing_from_model_json(trained_model_dir):
    predictor = Predictor.load(trained_model_dir, "onnx")
    meta = json.loads((trained_model_dir / "model.json").read_text())
    assert predictor.engine == "onnx"
    assert predictor.preprocessing.to_dict() == meta["preprocessing"]
    assert predictor.classes == meta["classes"]


@pytest.fixture()
def model_copy(trained_model_dir, tmp_path) -> Path:
    """A private copy, so re-exporting does not touch the session's shared model."""
    return Path(shutil.copytree(trained_model_dir, tmp_path / "model"))


@pytest.fixture()
def few_photos(groceries4, tmp_path) -> Path:
    """Two photos per class in a scratch folder (outside the repository)."""
    root = tmp_path / "few"
    for cls in ("juice", "milk", "soda", "water"):
        (root / cls).mkdir(parents=True)
        for photo in sorted((groceries4 / cls).glob("*.jpg"))[:2]:
            shutil.copy(photo, root / cls / photo.name)
    return root


def test_cli_export_writes_onnx_and_checks_parity(model_copy, few_photos):
    (model_copy / "model.onnx").unlink()
    report = run_cli("export", "--model", str(model_copy), "--data", str(few_photos))
    assert Path(report["onnx"]) == model_copy / "model.onnx"
    assert (model_copy / "model.onnx").stat().st_size > 1_000_000
    assert report["parity"] == {"n": 8, "label_agreement": 1.0,
                                "max_abs_prob_diff": pytest.approx(0, abs=1e-4)}


def test_cli_predict_with_onnx_names_the_products(trained_model_dir, few_photos):
    photos = sorted(few_photos.glob("*/*.jpg"))
    report = run_cli("predict", "--model", str(trained_model_dir), "--engine", "onnx",
                     *map(str, photos))
    assert report["engine"] == "onnx"
    predicted = [p["labels"][0] for p in report["predictions"]]
    truth = [Path(p["image"]).parent.name for p in report["predictions"]]
    assert sum(a == b for a, b in zip(predicted, truth, strict=True)) >= 7
    torch_probs = Predictor.load(trained_model_dir, "torch").predict_proba(
        [load_image(p) for p in photos])
    for row, prediction in zip(torch_probs, report["predictions"], strict=True):
        top = prediction["top"][0]
        assert row.max() == pytest.approx(top["probability"], abs=1e-4)
