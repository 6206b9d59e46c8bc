"""``python -m cvlib``: machine-readable results on stdout, progress on stderr.

Every command runs on the sample data (Lite0 at 128 px, features cached by the session);
what the default recipe reaches on real photos is checked on groceries4.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.samples import FRIDGE4, QUICK, REPO, photos


def cvlib(*args: str) -> tuple[dict, str]:
    """Run the CLI with --json; stdout must be exactly one JSON document."""
    proc = subprocess.run([sys.executable, "-m", "cvlib", *args, "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout), proc.stderr


SMALL = ("--arch", QUICK.architecture, "--image-size", str(QUICK.image_size))
"""The sample model's settings (``tests/samples.py``), so training hits the feature cache."""


def train_report(data: Path, out: Path, *options: str) -> dict:
    """``cvlib train`` on ``data`` into ``out``; its JSON report, with its stderr added."""
    report, stderr = cvlib("train", "--data", str(data), "--out", str(out), *options)
    report["stderr"] = stderr
    return report


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return train_report(FRIDGE4, tmp_path_factory.mktemp("cli") / "model", *SMALL)


def test_train_reports_what_it_did_on_stdout_and_its_progress_on_stderr(trained):
    assert trained["mode"] == "quick"
    assert trained["accuracy"] >= 0.75  # measured: 22 of 24
    assert trained["n_valid"] == 24
    assert set(trained["timings"]) >= {"features_s", "total_s", "wall_s", "cache_hits"}
    assert "linear probe" in trained["stderr"]  # progress went to stderr


def test_train_with_the_defaults_reaches_090_on_the_real_photos(groceries4, tmp_path):
    report = train_report(groceries4, tmp_path / "model")
    assert report["mode"] == "quick"
    assert report["accuracy"] >= 0.90
    assert report["n_valid"] == 32


def test_train_reports_the_accuracy_to_expect_on_new_photos_with_its_interval(trained):
    low, high = trained["estimated_accuracy_low"], trained["estimated_accuracy_high"]
    assert 0.5 < low <= trained["estimated_accuracy"] <= high <= 1.0
    assert trained["estimate"]["method"] in ("cross-validation", "validation")
    model_json = json.loads((Path(trained["model"]) / "model.json").read_text())
    assert model_json["estimate"]["accuracy"] == trained["estimated_accuracy"]


def test_a_model_trained_from_the_command_line_is_in_the_run_history(trained):
    from cvlib.training.runs import load_run

    record = load_run(trained["run"])
    assert record.page == "cli" and record.model_dir == trained["model"]
    assert record.settings["mode"] == "quick" and len(record.valid_names) == trained["n_valid"]
    model_json = json.loads((Path(trained["model"]) / "model.json").read_text())
    assert model_json["run_id"] == record.id


def test_evaluate_scores_a_saved_model_on_any_labelled_dataset(trained):
    report, _ = cvlib("evaluate", "--model", trained["model"], "--data", str(FRIDGE4))
    assert report["n"] == 120
    assert report["accuracy"] >= 0.9  # training images included: it must know them
    assert len(report["confusion"]) == 4


def test_predict_names_the_class_of_each_image_and_reports_bad_files(trained, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    photo = photos("milk_bottle")[0]  # one the model was fitted on
    report, stderr = cvlib("predict", "--model", trained["model"], str(photo), str(broken))
    good, bad = report["predictions"]
    assert good["labels"] == ["milk_bottle"]
    assert "broken.jpg" in bad["error"] and "broken.jpg" in stderr


def test_full_mode_keeps_stdout_parseable(tmp_path):
    report = train_report(FRIDGE4, tmp_path / "full", *SMALL, "--mode", "full", "--epochs", "1")
    assert report["mode"] == "full" and report["accuracy"] > 0.5


def test_a_missing_dataset_is_one_clear_line_and_exit_status_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cvlib", "train", "--data",
                           str(tmp_path / "nowhere"), "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("error:") and "nowhere" in proc.stderr
