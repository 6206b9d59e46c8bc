"""Validation metrics: the counting ones are numpy, and they agree with scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from cvlib.evaluation.metrics import confusion_matrix, evaluate

CLASSES = ["juice", "milk", "soda", "water"]


def _random_single_label(seed: int, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, len(CLASSES)))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return probs, rng.integers(0, len(CLASSES), n)


def test_the_confusion_matrix_counts_truth_by_row_and_prediction_by_column():
    got = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)
    assert got.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


@pytest.mark.parametrize("seed", range(5))
def test_single_label_counts_agree_with_scikit_learn(seed: int):
    probs, targets = _random_single_label(seed)
    got = evaluate(probs, targets, CLASSES)
    preds = probs.argmax(1)
    p, r, f, support = skm.precision_recall_fscore_support(
        targets, preds, labels=range(len(CLASSES)), zero_division=0)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(targets, preds))
    assert got["confusion"] == skm.confusion_matrix(targets, preds,
                                                    labels=range(len(CLASSES))).tolist()
    for i, name in enumerate(CLASSES):
        row = got["per_class"][name]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx(
            (p[i], r[i], f[i], support[i]))


def test_a_class_never_predicted_or_absent_scores_zero_not_nan():
    probs = np.array([[0.9, 0.1, 0.0, 0.0], [0.8, 0.2, 0.0, 0.0]])
    got = evaluate(probs, np.array([0, 1]), CLASSES)
    assert got["per_class"]["milk"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                        "support": 1}
    assert got["per_class"]["soda"]["support"] == 0 and got["per_class"]["soda"]["f1"] == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_multi_label_counts_agree_with_scikit_learn(seed: int):
    rng = np.random.default_rng(seed)
    probs = rng.uniform(size=(30, len(CLASSES)))
    truth = (rng.uniform(size=(30, len(CLASSES))) < 0.4).astype(int)
    got = evaluate(probs, truth, CLASSES, multi_label=True, threshold=0.45)
    p, r, f, support = skm.precision_recall_fscore_support(truth, (probs >= 0.45).astype(int),
                                                           zero_division=0)
    for i, name in enumerate(CLASSES):
        row = got["per_class"][name]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx(
            (p[i], r[i], f[i], support[i]))
        assert row["ap"] == pytest.approx(skm.average_precision_score(truth[:, i], probs[:, i]))


def test_curves_are_left_out_when_only_numbers_are_wanted():
    probs, targets = _random_single_label(0)
    assert "roc" in evaluate(probs, targets, CLASSES)
    numbers = evaluate(probs, targets, CLASSES, curves=False)
    assert "roc" not in numbers and "pr" not in numbers and numbers["n"] == len(targets)
