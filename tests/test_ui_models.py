"""Models by name: names that say what a model is, and classes checked against the data."""

from __future__ import annotations

import os
import re

from cvlib.models.card import ModelCard
from cvlib.models.preprocess import Preprocessing
from ui.models import classes_mismatch, default_model_name, describe


def card(architecture: str, mode: str) -> ModelCard:
    return ModelCard(architecture, ["a", "b"], False, Preprocessing(), training={"mode": mode})


def test_a_default_name_says_data_backbone_mode_and_time():
    name = default_model_name(card("efficientnet_lite0", "quick"), data_name="fridge4")
    assert re.fullmatch(r"fridge4-efficientnet_lite0-quick-\d{8}-\d{4}", name), name


def test_a_data_name_that_is_not_a_folder_name_is_made_safe():
    assert default_model_name(card("resnet18", "full"), data_name="my photos/2024").startswith(
        "my-photos-2024-resnet18-full-")


def test_matching_classes_in_any_order_are_fine():
    assert classes_mismatch(["can", "milk"], ["milk", "can"]) is None


def test_other_classes_are_named_both_ways():
    problem = classes_mismatch(["can", "milk", "water"], ["milk", "juice"])
    assert "never learned (juice)" in problem
    assert "does not have (can, water)" in problem


def test_a_model_is_listed_by_when_it_was_saved_and_an_onnx_export_does_not_change_it(tmp_path):
    folder = tmp_path / "fridge4-tiny"
    folder.mkdir()
    (folder / "model.json").write_text("{}")
    saved = 1_700_000_000  # 2023-11-14
    os.utime(folder / "model.json", (saved, saved))
    before = describe(folder)
    (folder / "model.onnx").write_bytes(b"exported later")  # the folder's time is now
    assert describe(folder) == before
    assert "saved 2023-11-1" in before
