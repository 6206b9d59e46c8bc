"""Multi-label training: sigmoid outputs, BCE, honest metrics, tuned thresholds.

The behaviour is tested on the sample data's ``fridge-multilabel`` (60 shelves of 1 to 3
products, Lite0 at 128 px); the accuracy floors, and what strips and Grad-CAM buy, on
../shared/data/groceries4-multilabel (120 shop photos with 1 to 3 products each).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cvlib.data.dataset import load_dataset
from cvlib.data.images import load_image
from cvlib.evaluation.metrics import evaluate
from cvlib.evaluation.thresholds import tune
from cvlib.models.preprocess import Preprocessing
from cvlib.training.config import TrainConfig
from tests.samples import CLASSES, FRIDGE_MULTILABEL, QUICK

REAL = TrainConfig(mode="quick", architecture="efficientnet_lite0", image_size=224,
                   fit_on_all=False)
"""The workshop recipe (quick, Lite0 at 224 px) that the real-photo floors were measured with.

``fit_on_all=False`` keeps the saved head the one that was validated, so the tests can
compare what the saved model outputs with what was measured (the default refits the head
on every photo once the validation numbers are taken)."""


def quick_train(dataset, config: TrainConfig):
    """Quick training of ``dataset`` (torch imported only when a test needs it)."""
    from cvlib.training.train import train

    return train(dataset, config)


@pytest.fixture(scope="module")
def multilabel():
    """The sample multi-label set."""
    return load_dataset(FRIDGE_MULTILABEL)


@pytest.fixture(scope="module")
def quick_result(multilabel):
    """Quick training on the sample set at 128 px, the validated head kept (as ``REAL``)."""
    return quick_train(multilabel, replace(QUICK, fit_on_all=False))


@pytest.fixture(scope="module")
def real_multilabel(shared_data: Path):
    """The real multi-label set."""
    return load_dataset(shared_data / "groceries4-multilabel")


@pytest.fixture(scope="module")
def real_result(real_multilabel):
    """The workshop recipe on the real multi-label photos."""
    return quick_train(real_multilabel, REAL)


def test_the_sample_set_is_multi_label(multilabel):
    assert multilabel.multi_label and multilabel.classes == CLASSES
    assert max(len(labels) for _, labels in multilabel.items) == 3


def test_metrics_are_computed_on_the_sigmoid_probabilities_the_model_outputs(quick_result):
    from cvlib.models.inference import Predictor

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
    assert set(quick_result.metrics["per_class"]["carton"]) >= {"precision", "recall", "f1",
                                                                  "ap"}


def test_saved_thresholds_are_what_prediction_uses(quick_result, tmp_path: Path):
    from cvlib.models.inference import Predictor

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


def tuned_thresholds(result):
    """Thresholds tuned on a training result's validation photos, and what they score."""
    return tune(result.valid_probs, result.valid_targets, result.meta["classes"])


def test_tuned_thresholds_score_no_worse_than_one_half(quick_result):
    """Tuning picks the thresholds on the validation photos: it cannot do worse there."""
    choice = tuned_thresholds(quick_result)
    at_half, tuned_global = choice.scores_at_default, choice.scores_global
    assert tuned_global["exact_match"] >= at_half["exact_match"]
    assert choice.scores_per_class["hamming_accuracy"] >= at_half["hamming_accuracy"]
    assert len(choice.per_class) == len(CLASSES)
    assert all(0 < t < 1 for t in choice.per_class)


def test_tuned_thresholds_on_real_photos_reach_the_floors(real_result):
    """Measured (quick, Lite0, 224 px strips, seed 42, 23 validation photos): exact match
    0.78 at 0.5, 0.83 at the tuned global threshold, 0.87 with per-class thresholds;
    hamming 0.92, 0.94, 0.95 (bench/multilabel.py).  The floors are the issue's: 0.70 and
    0.90."""
    choice = tuned_thresholds(real_result)
    tuned = choice.scores_global
    assert tuned["exact_match"] >= 0.70
    assert tuned["hamming_accuracy"] >= 0.90
    assert choice.scores_per_class["exact_match"] >= 0.70


def test_multi_label_data_can_be_looked_at_whole_instead_of_in_strips(multilabel,
                                                                      quick_result):
    whole = quick_train(multilabel, replace(QUICK, regions="whole"))
    assert quick_result.meta["regions"]["size"] == 128 and whole.meta["regions"] is None
    assert whole.meta["preprocessing"]["image_size"] == 128
    assert set(whole.metrics) >= {"exact_match", "hamming_accuracy", "f1"}


def test_looking_at_strips_beats_looking_at_the_whole_image(real_multilabel, real_result):
    """One vector for the whole photo blends its products; strips keep them apart."""
    whole = quick_train(real_multilabel, replace(REAL, regions="whole"))
    assert real_result.meta["regions"]["size"] == 224 and whole.meta["regions"] is None
    strips = real_result.metrics
    assert strips["exact_match"] >= whole.metrics["exact_match"] + 0.15
    assert strips["hamming_accuracy"] > whole.metrics["hamming_accuracy"]


def test_the_onnx_export_pools_the_regions_like_the_network(quick_result, tmp_path: Path):
    from cvlib.models.inference import Predictor

    folder = replace(quick_result).save(tmp_path / "m")  # saved without building the network
    onnx = Predictor.load(folder, engine="onnx")
    probs = onnx.predict_proba([load_image(p) for p in quick_result.valid_paths])
    np.testing.assert_allclose(probs, quick_result.valid_probs, atol=1e-4)


def test_each_products_heatmap_lies_over_that_product(real_result, shared_data: Path):
    """ml002 shows water, milk and juice from left to right."""
    from cvlib.models.explain import GradCam

    cam = GradCam(real_result.network, Preprocessing.from_dict(real_result.meta["preprocessing"]))
    image = load_image(shared_data / "groceries4-multilabel" / "images" / "ml002.jpg")
    classes = real_result.meta["classes"]
    for name, third in (("water", 0), ("milk", 1), ("juice", 2)):
        heat = cam.heatmap(image, classes.index(name))
        mass = [float(part.sum()) for part in np.array_split(heat, 3, axis=1)]
        assert int(np.argmax(mass)) == third, (name, mass)
