"""Multi-label training on real photos: sigmoid outputs, BCE, honest metrics, tuned thresholds.

Data: ../shared/data/groceries4-multilabel (120 shop photos with 1 to 3 products each).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cvlib.data import load_dataset
from cvlib.evaluate import evaluate
from cvlib.images import load_image
from cvlib.thresholds import tune
from cvlib.train_config import TrainConfig


@pytest.fixture(scope="module")
def multilabel(shared_data: Path):
    """The real multi-label set."""
    return load_dataset(shared_data / "groceries4-multilabel")


@pytest.fixture(scope="module")
def quick_result(multilabel):
    """Quick training, Lite0 at 224 px (the workshop recipe)."""
    from cvlib.train import train

    return train(multilabel, TrainConfig(mode="quick", architecture="efficientnet_lite0",
                                         image_size=224))


def test_the_real_set_is_multi_label(multilabel):
    assert multilabel.multi_label and multilabel.classes == ["juice", "milk", "soda", "water"]
    assert max(len(labels) for _, labels in multilabel.items) == 3


def test_metrics_are_computed_on_the_sigmoid_probabilities_the_model_outputs(quick_result):
    from cvlib.inference import Predictor

    probs = quick_result.valid_probs
    assert probs.shape == quick_result.valid_targets.shape
    assert ((probs > 0) & (probs < 1)).all()
    assert not np.allclose(probs.sum(axis=1), 1.0), "independent sigmoids, not a softmax"
    predictor = Predictor.from_network(quick_result.network, quick_result.meta)
    images = [load_image(p) for p in quick_result.valid_paths]
    assert np.allclose(predictor.predict_proba(images), probs, atol=1e-3)
    again = evaluate(probs, quick_result.valid_targets, quick_result.meta["classes"],
                     multi_label=True)
    for name in ("hamming_accuracy", "exact_match", "f1", "loss"):
        assert quick_result.metrics[name] == pytest.approx(again[name])
    assert set(quick_result.metrics["per_class"]["milk"]) >= {"precision", "recall", "f1",
                                                                "ap"}


def test_saved_thresholds_are_what_prediction_uses(quick_result, tmp_path: Path):
    from dataclasses import replace

    from cvlib.inference import Predictor

    choice = tune(quick_result.valid_probs, quick_result.valid_targets,
                  quick_result.meta["classes"])
    folder = replace(quick_result, meta={**quick_result.meta,
                                         "thresholds": choice.per_class}).save(tmp_path / "m")
    predictor = Predictor.load(folder)
    assert predictor.thresholds().tolist() == choice.per_class
    decided = predictor.decide(quick_result.valid_probs)
    expected = quick_result.valid_probs >= np.asarray(choice.per_class)
    assert decided == [[c for c, k in zip(predictor.classes, row, strict=True) if k]
                       for row in expected]


def test_tuned_thresholds_on_real_photos_beat_one_half(quick_result):
    """Measured (quick, Lite0, 224 px, one view, seed 42, 23 validation photos): exact match
    0.48 at 0.5 and at the tuned global threshold, 0.52 with per-class thresholds; hamming
    0.79, 0.79, 0.87.  The floors sit a little below, to catch regressions, not to flatter;
    the issue's 0.70 / 0.90 are not reached by quick training on this set."""
    choice = tune(quick_result.valid_probs, quick_result.valid_targets,
                  quick_result.meta["classes"])
    at_half, tuned = choice.scores_at_default, choice.scores_global
    assert tuned["exact_match"] >= at_half["exact_match"]
    assert choice.scores_per_class["hamming_accuracy"] >= at_half["hamming_accuracy"]
    assert tuned["exact_match"] >= 0.45
    assert choice.scores_per_class["exact_match"] >= 0.50
    assert choice.scores_per_class["hamming_accuracy"] >= 0.80
    assert at_half["hamming_accuracy"] >= 0.72
