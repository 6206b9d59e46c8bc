"""Run history: typed records are listed, loaded, compared, and re-run to the same metrics."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from cvlib.data.dataset import load_dataset
from cvlib.errors import DatasetError, StudioError
from cvlib.training.runs import (
    DataRef,
    RunRecord,
    compare_runs,
    dataset_of,
    list_runs,
    load_run,
    record_run,
    runs_dir,
    same_metrics,
)
from cvlib.training.workflow import (
    rerun,
    save_trained,
    train_and_record,
    validation_predictions,
)
from tests.samples import CLASSES, FRIDGE4, QUICK


@pytest.fixture(scope="module")
def trained():
    """One quick training on the sample data through the studio's workflow (cached features)."""
    return train_and_record(load_dataset(FRIDGE4), QUICK, surface="test")


@pytest.fixture(scope="module")
def recorded(trained) -> RunRecord:
    return load_run(trained.meta["run_id"])


def test_a_training_record_holds_what_is_needed_to_repeat_it(recorded):
    assert recorded in list_runs("train")
    assert recorded.page == "test" and recorded.schema == 1
    assert recorded.seed == 42 and recorded.settings["architecture"] == "efficientnet_lite0"
    assert len(recorded.valid_names) == 24
    assert recorded.dataset.classes == CLASSES
    with pytest.raises(StudioError):
        load_run("no-such-run")


def test_saving_a_recorded_model_notes_the_folder_and_the_folder_names_its_run(
        trained, recorded, tmp_path):
    folder = save_trained(trained, tmp_path / "model")
    assert load_run(recorded.id).model_dir == str(folder)
    assert json.loads((folder / "model.json").read_text())["run_id"] == recorded.id


def test_a_rerun_uses_the_same_files_and_split_and_gets_the_same_metrics(recorded):
    _, again = rerun(recorded)
    assert again.rerun_of == recorded.id and again.page == "rerun"
    assert again.valid_names == recorded.valid_names
    assert same_metrics(recorded, again)
    differing = [row["name"] for row in compare_runs(recorded, again) if not row["same"]]
    assert set(differing) <= {"features_s", "total_s", "cache_hits", "cache_misses"}


def test_comparing_two_settings_shows_what_differs(recorded):
    other = dataclasses.replace(recorded, id="other", settings={**recorded.settings, "seed": 7})
    rows = {row["name"]: row for row in compare_runs(recorded, other)}
    assert not rows["seed"]["same"] and rows["seed"]["b"] == 7
    assert rows["fingerprint"]["same"] and rows["architecture"]["same"]


def test_changed_data_refuses_an_exact_rerun(recorded, tmp_path):
    copy = tmp_path / "fridge4"
    shutil.copytree(FRIDGE4, copy)
    photo = Path(recorded.valid_names[0])
    other_class = next(name for name in CLASSES if name != photo.parent.name)
    shutil.move(copy / photo, copy / other_class / photo.name)  # relabelled
    changed = dataclasses.replace(
        recorded, dataset=dataclasses.replace(recorded.dataset, root=str(copy)))
    with pytest.raises(DatasetError, match="changed since"):
        dataset_of(changed)


def test_validation_predictions_come_from_the_saved_model_when_there_is_one(
        recorded, sample_model_dir):
    with_model = dataclasses.replace(recorded, model_dir=str(sample_model_dir))
    predictions = validation_predictions(with_model)
    assert predictions.probs.shape == (24, 4) and len(predictions.paths) == 24
    accuracy = (predictions.probs.argmax(1) == predictions.targets).mean()
    assert accuracy == pytest.approx(recorded.metrics["accuracy"], abs=0.04)


def test_other_kinds_of_run_leave_records_too():
    record = record_run("export", {"format": "onnx"}, model_dir="/tmp/m")
    assert load_run(record.id).details["format"] == "onnx"
    assert record in list_runs("export")


def test_a_record_written_before_the_schema_reads_with_its_extra_fields_kept():
    old = {"id": "20250101-000000-train-abcdef", "kind": "train",
           "created": "2025-01-01T00:00:00+00:00", "page": "01",
           "dataset": {"root": "/data/fridge", "fingerprint": "f00", "n_images": 12,
                       "classes": ["a", "b"], "multi_label": False},
           "split": {"valid": ["a/1.jpg"]}, "settings": {"mode": "quick"},
           "metrics": {"accuracy": 0.5}, "estimate": None, "note": "from an old version"}
    (runs_dir() / f"{old['id']}.json").write_text(json.dumps(old))
    record = load_run(old["id"])
    assert record.schema == 0 and record.details == {"note": "from an old version"}
    assert record.dataset == DataRef("/data/fridge", "f00", 12, ["a", "b"], False)
    assert record.valid_names == ["a/1.jpg"] and record.timings == {}


def test_a_damaged_record_is_skipped_not_fatal():
    (runs_dir() / "20250101-000001-train-broken.json").write_text('{"id": "x"')
    (runs_dir() / "20250101-000002-train-nokind.json").write_text('{"id": "x"}')
    assert all(isinstance(r, RunRecord) for r in list_runs())
