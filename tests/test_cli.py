"""``python -m cvlib``: machine-readable results on stdout, progress on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def cvlib(*args: str) -> tuple[dict, str]:
    """Run the CLI with --json; stdout must be exactly one JSON document."""
    proc = subprocess.run([sys.executable, "-m", "cvlib", *args, "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout), proc.stderr


@pytest.fixture(scope="module")
def trained(groceries4: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("cli") / "model"
    report, stderr = cvlib("train", "--data", str(groceries4), "--out", str(out))
    report["stderr"] = stderr
    return report


def test_train_with_the_defaults_reaches_090_on_the_real_photos(trained):
    assert trained["mode"] == "quick"
    assert trained["accuracy"] >= 0.90
    assert trained["n_valid"] == 32
    assert set(trained["timings"]) >= {"features_s", "total_s", "wall_s", "cache_hits"}
    assert "linear probe" in trained["stderr"]  # progress went to stderr


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


def test_evaluate_scores_a_saved_model_on_any_labelled_dataset(trained, groceries4):
    report, _ = cvlib("evaluate", "--model", trained["model"], "--data", str(groceries4))
    assert report["n"] == 160
    assert report["accuracy"] >= 0.9  # training images included: it must know them
    assert len(report["confusion"]) == 4


def test_predict_names_the_class_of_each_image_and_reports_bad_files(trained, groceries4,
                                                                    tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    photo = sorted((groceries4 / "milk").iterdir())[0]
    report, stderr = cvlib("predict", "--model", trained["model"], str(photo), str(broken))
    good, bad = report["predictions"]
    assert good["labels"] == ["milk"]
    assert "broken.jpg" in bad["error"] and "broken.jpg" in stderr


def test_full_mode_keeps_stdout_parseable(groceries4, tmp_path):
    report, _ = cvlib("train", "--data", str(groceries4), "--mode", "full", "--epochs", "1",
                      "--arch", "efficientnet_lite0", "--image-size", "160",
                      "--out", str(tmp_path / "full"))
    assert report["mode"] == "full" and report["accuracy"] > 0.5


def test_a_missing_dataset_is_one_clear_line_and_exit_status_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cvlib", "train", "--data",
                           str(tmp_path / "nowhere"), "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("error:") and "nowhere" in proc.stderr
