"""A folder with train/, valid/ and test/ sub-folders is split by those folders.

The data is made by each test from the repo's own ``sample_data/fridge4`` photos.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cvlib.cli import main
from cvlib.data.dataset import load_dataset
from cvlib.training.config import TrainConfig
from cvlib.training.train import train

FRIDGE = Path(__file__).resolve().parent.parent / "sample_data" / "fridge4"
LITE0 = {"architecture": "efficientnet_lite0", "image_size": 224}


def make_split_folder(root: Path, parts: dict[str, range], valid_name: str = "valid") -> Path:
    """``root/<part>/<class>/`` copies of fridge4 photos; ``parts`` maps part -> photo range."""
    for part, chosen in parts.items():
        name = valid_name if part == "valid" else part
        for class_dir in sorted(FRIDGE.iterdir()):
            photos = sorted(class_dir.iterdir())
            (root / name / class_dir.name).mkdir(parents=True)
            for photo in (photos[i] for i in chosen):
                shutil.copy(photo, root / name / class_dir.name / photo.name)
    return root


@pytest.fixture(scope="module")
def three_way(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 train, 4 valid and 4 test photos of each of the 4 fridge classes."""
    return make_split_folder(tmp_path_factory.mktemp("split") / "fridge",
                             {"train": range(12), "valid": range(12, 16),
                              "test": range(16, 20)})


def test_train_valid_test_folders_are_parts_not_classes(three_way):
    dataset = load_dataset(three_way)
    assert dataset.classes == ["can", "carton", "milk_bottle", "water_bottle"]
    assert len(dataset) == 4 * 16
    valid = dataset.folder_valid()
    assert len(valid) == 16
    assert {dataset.items[i].path.parent.parent.name for i in valid} == {"valid"}
    assert dataset.test is not None and len(dataset.test) == 16
    assert dataset.test.classes == dataset.classes


@pytest.mark.parametrize("spelling", ["validation", "val", "Valid"])
def test_every_common_spelling_of_the_validation_folder_is_recognised(tmp_path, spelling):
    root = make_split_folder(tmp_path / "d", {"train": range(3), "valid": range(3, 5)},
                             valid_name=spelling)
    dataset = load_dataset(root)
    assert dataset.classes == ["can", "carton", "milk_bottle", "water_bottle"]
    assert dataset.valid_folder == spelling and len(dataset.folder_valid()) == 8
    assert dataset.test is None


def test_train_and_test_without_valid_splits_train_by_seed(tmp_path):
    dataset = load_dataset(make_split_folder(tmp_path / "d", {"train": range(5),
                                                               "test": range(5, 7)}))
    assert dataset.classes == ["can", "carton", "milk_bottle", "water_bottle"]
    assert dataset.folder_valid() is None and len(dataset.test) == 8


def test_a_class_named_test_beside_other_classes_stays_a_class(tmp_path):
    for name in ("test", "milk"):
        (tmp_path / name).mkdir()
        for photo in sorted((FRIDGE / "can").iterdir())[:2]:
            shutil.copy(photo, tmp_path / name / photo.name)
    dataset = load_dataset(tmp_path)
    assert dataset.classes == ["milk", "test"] and dataset.test is None


def test_a_test_class_never_trained_on_is_left_out_and_said(tmp_path):
    root = make_split_folder(tmp_path / "d", {"train": range(3), "test": range(3, 5)})
    shutil.copytree(root / "test" / "can", root / "test" / "yoghurt")
    dataset = load_dataset(root)
    assert "yoghurt" not in dataset.classes and len(dataset.test) == 8
    assert ("test/yoghurt/", "class not in train/, left out of the test") in dataset.problems


def test_training_validates_on_the_valid_folder_and_scores_the_test_folder_once(three_way):
    dataset = load_dataset(three_way)
    result = train(dataset, TrainConfig(mode="quick", **LITE0))
    assert sorted(p.parent.parent.name for p in result.valid_paths) == ["valid"] * 16
    assert {p.parent.parent.name for p in result.train_paths} == {"train"}
    assert result.meta["split"]["by_folder"] == "valid"
    assert result.test_metrics["n"] == 16
    assert result.meta["test"]["accuracy"] == result.test_metrics["accuracy"] > 0.5


def test_the_cli_reports_test_accuracy_and_model_json_keeps_it(three_way, tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["train", "--data", str(three_way), "--arch", "efficientnet_lite0",
                 "--image-size", "224", "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_valid"] == 16 and report["n_test"] == 16
    saved = json.loads((out / "model.json").read_text())
    assert saved["test"]["accuracy"] == report["test_accuracy"]
    assert report["classes"] == ["can", "carton", "milk_bottle", "water_bottle"]


def test_evaluate_on_a_split_folder_scores_its_test_photos(three_way, tmp_path, capsys):
    out = tmp_path / "model"
    train(load_dataset(three_way), TrainConfig(mode="quick", **LITE0)).save(out)
    assert main(["evaluate", "--model", str(out), "--data", str(three_way), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["n"] == 16
    assert "test/ folder" in captured.err
