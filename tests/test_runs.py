"""Run history: records are listed, loaded, compared, and re-run to the same metrics."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cvlib.data.dataset import load_dataset
from cvlib.errors import DatasetError, StudioError
from cvlib.training.config import TrainConfig
from cvlib.training.runs import (
    compare_runs,
    dataset_of,
    list_runs,
    load_run,
    record_run,
    record_training,
    rerun,
    same_metrics,
    validation_predictions,
)
from cvlib.training.train import train

CONFIG = TrainConfig(mode="quick", architecture="efficientnet_lite0", image_size=224)


@pytest.fixture(scope="module")
def recorded(groceries4: Path) -> dict:
    """One quick training on groceries4, recorded (cached features: seconds)."""
    dataset = load_dataset(groceries4)
    return record_training(dataset, train(dataset, CONFIG), page="test")


def test_a_training_record_holds_what_is_needed_to_repeat_it(recorded):
    assert recorded in list_runs("train")
    assert load_run(recorded["id"]) == recorded
    assert recorded["seed"] == 42 and recorded["settings"]["architecture"] == "efficientnet_lite0"
    assert len(recorded["split"]["valid"]) == 32
    with pytest.raises(StudioError):
        load_run("no-such-run")


def test_a_rerun_uses_the_same_files_and_split_and_gets_the_same_metrics(recorded):
    _, again = rerun(recorded)
    assert again["rerun_of"] == recorded["id"]
    assert again["split"]["valid"] == recorded["split"]["valid"]
    assert same_metrics(recorded, again)
    differing = [row["name"] for row in compare_runs(recorded, again) if not row["same"]]
    assert set(differing) <= {"features_s", "total_s", "cache_hits", "cache_misses"}


def test_comparing_two_settings_shows_what_differs(recorded, groceries4):
    other = dict(recorded, id="other", settings={**recorded["settings"], "seed": 7})
    rows = {row["name"]: row for row in compare_runs(recorded, other)}
    assert not rows["seed"]["same"] and rows["seed"]["b"] == 7
    assert rows["fingerprint"]["same"] and rows["architecture"]["same"]


def test_changed_data_refuses_an_exact_rerun(recorded, groceries4, tmp_path):
    copy = tmp_path / "g4"
    shutil.copytree(groceries4, copy)
    moved = copy / "milk" / Path(recorded["split"]["valid"][0]).name
    shutil.move(copy / recorded["split"]["valid"][0], moved)
    changed = dict(recorded, dataset={**recorded["dataset"], "root": str(copy)})
    with pytest.raises(DatasetError, match="changed since"):
        dataset_of(changed)


def test_validation_predictions_come_from_the_saved_model_when_there_is_one(
        recorded, trained_model_dir):
    with_model = dict(recorded, model_dir=str(trained_model_dir))
    predictions = validation_predictions(with_model)
    assert predictions.probs.shape == (32, 4) and len(predictions.paths) == 32
    accuracy = (predictions.probs.argmax(1) == predictions.targets).mean()
    assert accuracy == pytest.approx(recorded["metrics"]["accuracy"], abs=0.04)


def test_sweeps_and_exports_leave_records_too():
    record = record_run("export", {"model_dir": "/tmp/m", "format": "onnx"})
    assert load_run(record["id"])["format"] == "onnx"
    assert record in list_runs("export")
