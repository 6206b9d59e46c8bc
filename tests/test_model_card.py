"""The model card: model.json as typed attributes, older files read, nothing lost."""

from __future__ import annotations

import json

import pytest

from cvlib.errors import ModelFormatError
from cvlib.models.card import CARD_SCHEMA, ModelCard, read_card
from cvlib.models.checkpoint import make_meta
from cvlib.models.preprocess import Preprocessing

BEFORE_THE_SCHEMA = {
    "format": "cvlib-model/1", "architecture": "efficientnet_lite0",
    "classes": ["can", "milk"], "multi_label": True, "thresholds": [0.4, 0.6],
    "preprocessing": {"image_size": 224, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
                      "resize": "squish", "interpolation": "bilinear"},
    "views": ["identity", "hflip"], "regions": None, "created": "2025-06-01T10:00:00+00:00",
    "training": {"mode": "full", "epochs": 3}, "metrics": {"accuracy": 0.8},
    "run_id": "20250601-100000-train-abcdef", "categories": ["from", "an", "old", "tool"],
}


def test_a_model_json_written_before_the_schema_reads_as_attributes():
    card = ModelCard.from_dict(BEFORE_THE_SCHEMA)
    assert card.schema == 0 and card.mode == "full" and card.multi_label
    assert card.classes == ["can", "milk"] and card.thresholds == [0.4, 0.6]
    assert card.views == ("identity", "hflip") and card.preprocessing.image_size == 224
    assert card.run_id == "20250601-100000-train-abcdef"


def test_a_round_trip_keeps_every_field_even_unknown_ones():
    again = ModelCard.from_dict(BEFORE_THE_SCHEMA).to_dict()
    assert {k: v for k, v in again.items() if k != "schema"} == BEFORE_THE_SCHEMA


def test_the_studio_builds_model_json_through_the_card_with_its_schema():
    meta = make_meta(architecture="efficientnet_lite0", classes=["a", "b"], multi_label=False,
                     preprocessing=Preprocessing(), views=("identity",),
                     training={"mode": "quick"}, run_id="r1", note="kept")
    assert meta["schema"] == CARD_SCHEMA and meta["format"] == "cvlib-model/1"
    assert meta["thresholds"] is None and meta["regions"] is None  # 0.5, the whole image
    assert "test" not in meta and "estimate" not in meta  # other unset fields stay out
    card = ModelCard.from_dict(json.loads(json.dumps(meta)))
    assert (card.mode, card.run_id, card.extra) == ("quick", "r1", {"note": "kept"})
    assert set(card.versions) >= {"python", "torch", "timm", "numpy"}


def test_a_folder_that_is_not_a_model_is_explained(tmp_path):
    with pytest.raises(ModelFormatError, match="not a studio model folder"):
        read_card(tmp_path)
