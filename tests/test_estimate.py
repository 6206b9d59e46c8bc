"""The accuracy shown to the user comes with an honest 95% interval, and, in quick mode, is
cross-validated over every photo rather than read off one small split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom

from cvlib.data.dataset import load_dataset
from cvlib.evaluation.estimate import Estimate, accuracy_interval, cross_validated_accuracy
from cvlib.training.config import TrainConfig
from cvlib.training.quick_train import fit_linear_head, head_logits
from cvlib.training.train import train

FRIDGE = Path(__file__).resolve().parent.parent / "sample_data" / "fridge4"
LITE0 = {"architecture": "efficientnet_lite0", "image_size": 224}


def test_the_interval_is_the_wilson_score_interval():
    low, high = accuracy_interval(27, 30)
    assert low == pytest.approx(0.7438, abs=1e-3) and high == pytest.approx(0.9654, abs=1e-3)
    assert accuracy_interval(30, 30)[1] == 1.0 and accuracy_interval(30, 30)[0] < 0.9


def test_thirty_validation_photos_cannot_tell_085_from_095():
    """What page 01 tells the user, as numbers."""
    low, high = accuracy_interval(27, 30)
    assert low < 0.85 and high > 0.95
    # a model right 85% of the time scores 28 or more out of 30 about one run in seven
    assert binom.sf(27, 30, 0.85) == pytest.approx(1 / 7, abs=0.02)


def test_the_interval_narrows_with_more_photos():
    widths = [np.subtract(*accuracy_interval(int(0.9 * n), n)[::-1]) for n in (30, 300, 3000)]
    assert widths[0] > 2 * widths[1] > 4 * widths[2]


def blobs(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three overlapping Gaussian classes in 20 dimensions: a seeded fixture with a known,
    imperfect accuracy, so an estimate has something to be right or wrong about."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).normal(0, 0.5, (3, 20))
    y = np.repeat(np.arange(3), n_per_class)
    return centres[y] + rng.normal(0, 1, (len(y), 20)), y


def test_cross_validation_estimates_the_accuracy_on_unseen_data():
    x, y = blobs(40, seed=1)
    fresh_x, fresh_y = blobs(2000, seed=2)

    def fit(indices):
        head = fit_linear_head(x[indices], y[indices], 3)
        return lambda rows: head_logits(head, x[rows]).argmax(1)

    estimate = cross_validated_accuracy(y, fit, folds=5, seed=0)
    head = fit_linear_head(x, y, 3)
    unseen = float((head_logits(head, fresh_x).argmax(1) == fresh_y).mean())
    assert estimate.method == "cross-validation" and estimate.n == 120 and estimate.folds == 5
    assert 0.5 < unseen < 0.95
    assert abs(estimate.accuracy - unseen) < 0.06
    assert estimate.low < unseen < estimate.high


def test_folds_are_capped_by_the_smallest_class():
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1])
    estimate = cross_validated_accuracy(y, lambda _: lambda rows: y[rows], folds=5)
    assert estimate.folds == 3 and estimate.accuracy == 1.0


@pytest.fixture(scope="module")
def fridge():
    return load_dataset(FRIDGE)


def test_quick_training_cross_validates_over_every_photo(fridge):
    result = train(fridge, TrainConfig(mode="quick", estimate_folds=5, **LITE0))
    estimate = result.estimate
    assert estimate.method == "cross-validation" and estimate.n == len(fridge) == 120
    assert estimate.low <= estimate.accuracy <= estimate.high
    assert Estimate.from_dict(result.meta["estimate"]) == Estimate.from_dict(
        estimate.to_dict())


def test_without_folds_the_estimate_is_the_validation_accuracy_with_its_interval(fridge):
    result = train(fridge, TrainConfig(mode="quick", estimate_folds=0, **LITE0))
    estimate = result.estimate
    assert estimate.method == "validation" and estimate.n == result.metrics["n"]
    assert estimate.accuracy == pytest.approx(result.metrics["accuracy"])
    correct = round(estimate.accuracy * estimate.n)
    assert (estimate.low, estimate.high) == pytest.approx(accuracy_interval(correct,
                                                                            estimate.n))
