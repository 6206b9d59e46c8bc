"""Hard-negative mining on the sample data: ``fridge4`` against ``fridge-negatives``.

Quick mode with EfficientNet-Lite0 at 128 px: the positives' features are cached by the
session's ``sample_model_dir`` fixture, the negatives' on first use.  Measured: the 13 held-out
negatives are named a class 11 times in round 0, twice after one round with the 20 hardest of
the other 27; the positives' validation accuracy stays 0.875.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cvlib.data.dataset import load_dataset
from cvlib.data.splits import split
from cvlib.errors import DatasetError, StudioError
from cvlib.training.hardneg import (
    NONE_CLASS,
    HardNegativeMiner,
    decide,
    negative_images,
    split_negatives,
    with_background,
)
from tests.samples import CLASSES, FRIDGE4, FRIDGE_NEGATIVES
from tests.samples import QUICK as CONFIG


@pytest.fixture(scope="module")
def negatives() -> list[Path]:
    """40 pictures of other kitchen things (fruit, mugs, jars, ...): none of the four classes."""
    return negative_images(FRIDGE_NEGATIVES)


@pytest.fixture(scope="module")
def positives():
    """The four classes the model knows."""
    return load_dataset(FRIDGE4)


@pytest.fixture(scope="module")
def mined(positives, negatives: list[Path], sample_model_dir: Path):
    """Round 0 on the positives only, then one round with the 20 hardest negatives added."""
    miner = HardNegativeMiner(positives, negatives, CONFIG)
    before = miner.fit_round()
    candidates = miner.candidates(20)
    miner.add_negatives([c.path for c in candidates])
    after = miner.fit_round()
    return miner, before, after, candidates


def test_the_held_out_negatives_are_fixed_by_the_seed_and_never_mined(negatives):
    first = split_negatives(negatives)
    again = split_negatives(list(reversed(negatives)))
    assert first == again
    assert len(first.holdout) == 13 and len(first.pool) == 27
    assert not set(first.holdout) & set(first.pool)
    assert split_negatives(negatives, seed=7).holdout != first.holdout


def test_the_combined_data_points_at_the_negatives_and_keeps_the_positives_indices(
        positives, negatives):
    combined = with_background(positives, negatives[:5])
    assert combined.classes == sorted([*positives.classes, NONE_CLASS])
    assert combined.items[:len(positives)] == positives.items
    assert [item.path for item in combined.items[len(positives):]] == negatives[:5]
    assert combined.counts()[NONE_CLASS] == 5
    with pytest.raises(DatasetError):
        with_background(combined, negatives[5:6])


def test_the_app_answers_none_for_the_background_class_or_an_unsure_top_class():
    classes = ["can", NONE_CLASS, "carton"]
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.45, 0.1, 0.45]])
    assert decide(probs, classes, 0.5) == ["can", None, None]


def test_candidates_are_the_pool_images_the_model_names_a_class_for_most_surely(mined):
    miner, _, _, candidates = mined
    probabilities = [c.probability for c in candidates]
    assert probabilities == sorted(probabilities, reverse=True)
    assert {c.path for c in candidates} <= set(miner.negatives.pool)
    assert all(c.label in CLASSES for c in candidates)
    assert not {c.path for c in miner.candidates(20)} & {c.path for c in candidates}


def test_one_round_of_mining_cuts_false_positives_and_keeps_the_positives(mined):
    _, before, after, _ = mined
    assert before.round == 0 and after.round == 1 and after.n_negatives == 20
    assert after.fp_rate < before.fp_rate
    assert abs(after.positive_accuracy - before.positive_accuracy) <= 0.02


def test_the_retrained_model_has_the_background_class_and_the_same_validation_photos(mined):
    miner, *_ = mined
    positives = miner.positives
    assert NONE_CLASS in miner.result.meta["classes"]
    assert miner.result.meta["split"]["valid"] == [
        positives.name_of(positives.items[i].path) for i in miner.valid_idx]


def test_held_out_negatives_cannot_be_added_to_training(mined):
    miner, *_ = mined
    with pytest.raises(StudioError, match="not in the mining pool"):
        miner.add_negatives(miner.negatives.holdout[:1])


def test_the_threshold_strategy_raises_the_bar_without_retraining(positives, negatives,
                                                                   sample_model_dir):
    miner = HardNegativeMiner(positives, negatives, CONFIG, strategy="threshold")
    before = miner.fit_round()
    model = miner.result
    miner.add_negatives([c.path for c in miner.candidates(20)])
    after = miner.fit_round()
    assert miner.result is model and after.train_s == 0.0
    assert after.threshold > before.threshold
    assert after.fp_rate <= before.fp_rate
    assert after.positive_accuracy <= before.positive_accuracy


def test_the_positives_validation_split_is_the_seeded_one(positives, mined):
    miner, *_ = mined
    assert miner.valid_idx == split(positives, 0.2, 42)[1]


def test_scoring_from_cached_features_is_what_the_saved_network_computes(mined):
    from cvlib.data.images import load_image
    from cvlib.models.inference import Predictor

    miner, *_ = mined
    paths = miner.negatives.holdout[:4]
    network = Predictor.from_network(miner.result.network, miner.result.meta)
    direct = network.predict_proba([load_image(p) for p in paths])
    np.testing.assert_allclose(miner.score(paths), direct, atol=1e-4)


def test_every_round_has_a_confusion_matrix_with_a_none_of_these_row(mined):
    miner, before, after, _ = mined
    for outcome in (before, after):
        labels, matrix = outcome.confusion_labels, np.array(outcome.confusion)
        assert labels == [*CLASSES, NONE_CLASS]
        held = len(miner.negatives.holdout)
        assert matrix[-1].sum() == held, "the last row is the held-out negatives"
        assert matrix[-1, :-1].sum() / held == pytest.approx(outcome.fp_rate)
        positives = matrix[:-1]
        assert positives.sum() == len(miner.valid_idx)
        assert np.trace(positives) / positives.sum() == pytest.approx(
            outcome.positive_accuracy)


def test_round_0_can_start_with_a_few_seeded_negatives_like_the_tutorial(
        positives, negatives, mined):
    _, unseeded, _, _ = mined
    miner = HardNegativeMiner(positives, negatives, CONFIG, seed_negatives=10)
    again = HardNegativeMiner(positives, negatives, CONFIG, seed_negatives=10)
    assert miner.confirmed == again.confirmed and len(miner.confirmed) == 10
    assert set(miner.confirmed) <= set(miner.negatives.pool)
    first = miner.fit_round()
    assert first.round == 0 and first.n_negatives == 10
    assert NONE_CLASS in miner.classes()
    assert first.fp_rate < unseeded.fp_rate, "round 0 already rejects some negatives"
    assert first.positive_accuracy >= unseeded.positive_accuracy - 0.05
    assert not {c.path for c in miner.candidates(50)} & set(miner.confirmed)
